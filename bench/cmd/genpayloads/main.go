// Command genpayloads writes the benchmark payloads to a directory
// (bench/testdata by default, via `go generate ./payloads`), one
// <name>.txt per payload, and prints their sizes.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/sglangdynamo/sglangdynamoreceiver/bench/payloads"
)

func main() {
	out := flag.String("out", "testdata", "directory to write <name>.txt into")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	for _, p := range payloads.All() {
		path := filepath.Join(*out, p.Name+".txt")
		if err := os.WriteFile(path, p.Body, 0o644); err != nil {
			log.Fatal(err)
		}
		lines, samples, kept := payloads.Count(p.Body, "sglang:", "dynamo_")
		fmt.Printf("%-40s %8d bytes %6d lines %6d samples %6d kept (%.0f%% of lines dropped)\n",
			path, len(p.Body), lines, samples, kept, 100*float64(lines-linesKept(p.Body))/float64(lines))
	}
}

// linesKept counts the lines (samples and comments) that name a kept family.
func linesKept(body []byte) int {
	n := 0
	start := 0
	for i, c := range body {
		if c != '\n' {
			continue
		}
		l := string(body[start:i])
		start = i + 1
		for _, p := range []string{"sglang:", "dynamo_", "# HELP sglang:", "# TYPE sglang:", "# HELP dynamo_", "# TYPE dynamo_"} {
			if len(l) >= len(p) && l[:len(p)] == p {
				n++
				break
			}
		}
	}
	return n
}
