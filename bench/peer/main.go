// The peer for the backend's HTTP ingest benchmark: Filebeat with its own HTTP input (http_endpoint, from
// beats' x-pack tree, Elastic License 2.0), built from the same beats commit as the test Filebeat
// (tests/filebeat/go.mod). Only bench/backend_ingest.py runs it; it is never part of the product.
package main

import (
	"os"

	"github.com/elastic/beats/v7/filebeat/cmd"
	inputs "github.com/elastic/beats/v7/filebeat/input/default-inputs"
	v2 "github.com/elastic/beats/v7/filebeat/input/v2"
	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/statestore"
	"github.com/elastic/beats/v7/x-pack/filebeat/input/http_endpoint"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/paths"
)

func withHTTPEndpoint(info beat.Info, log *logp.Logger, states statestore.States, path *paths.Path) []v2.Plugin {
	return append(inputs.Init(info, log, states, path), http_endpoint.Plugin(log))
}

func main() {
	if err := cmd.Filebeat(withHTTPEndpoint, cmd.FilebeatSettings("")).Execute(); err != nil {
		os.Exit(1)
	}
}
