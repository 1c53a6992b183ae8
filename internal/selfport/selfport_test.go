package selfport

import (
	"net"
	"testing"
)

func TestListeningFindsOwnListener(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	ports, err := Listening()
	if err != nil {
		t.Fatal(err)
	}
	if !ports[port] {
		t.Fatalf("own listener on %d not found in %v", port, ports)
	}
	l.Close()
	ports, err = Listening()
	if err != nil {
		t.Fatal(err)
	}
	if ports[port] {
		t.Fatalf("closed listener on %d still reported", port)
	}
}

func TestIsLocal(t *testing.T) {
	for host, want := range map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true, "0.0.0.0": true, "192.0.2.1": false, "example.invalid": false} {
		if got := IsLocal(host); got != want {
			t.Errorf("IsLocal(%q) = %v, want %v", host, got, want)
		}
	}
}
