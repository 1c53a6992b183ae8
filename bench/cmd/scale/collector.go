package main

import (
	"context"
	"log"
	"os"
	"runtime/pprof"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/prometheusexporter"
	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/prometheusremotewriteexporter"
	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/prometheusreceiver"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/nopexporter"
	"go.opentelemetry.io/collector/otelcol"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/batchprocessor"
	"go.opentelemetry.io/collector/processor/memorylimiterprocessor"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/service/telemetry/otelconftelemetry"

	"github.com/sglangdynamo/sglangdynamoreceiver"
)

// runCollector runs a collector with the distribution's receiver,
// processors and exporters, plus contrib's prometheusreceiver, until
// SIGTERM. With -profile-file it profiles the window the parent measures.
func runCollector(cfgFile string) {
	factories := func() (otelcol.Factories, error) {
		f := otelcol.Factories{Telemetry: otelconftelemetry.NewFactory()}
		var err error
		if f.Receivers, err = otelcol.MakeFactoryMap[receiver.Factory](sglangdynamoreceiver.NewFactory(), prometheusreceiver.NewFactory()); err != nil {
			return f, err
		}
		if f.Processors, err = otelcol.MakeFactoryMap[processor.Factory](batchprocessor.NewFactory(), memorylimiterprocessor.NewFactory()); err != nil {
			return f, err
		}
		if f.Exporters, err = otelcol.MakeFactoryMap[exporter.Factory](prometheusexporter.NewFactory(), prometheusremotewriteexporter.NewFactory(), nopexporter.NewFactory()); err != nil {
			return f, err
		}
		return f, nil
	}
	if *profileFile != "" {
		go func() {
			time.Sleep(*profileDelay)
			f, err := os.Create(*profileFile)
			if err != nil {
				log.Print(err)
				return
			}
			pprof.StartCPUProfile(f)
			time.Sleep(*profileFor)
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	col, err := otelcol.NewCollector(otelcol.CollectorSettings{
		BuildInfo: component.BuildInfo{Command: "scale-collector", Version: "bench"},
		Factories: factories,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{ResolverSettings: confmap.ResolverSettings{
			URIs:              []string{"file:" + cfgFile},
			ProviderFactories: []confmap.ProviderFactory{fileprovider.NewFactory()},
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := col.Run(context.Background()); err != nil {
		log.Fatal(err)
	}
}
