// Filebeat, built from its Go module for the test suite (the Apache-2.0 filebeat/ tree, not x-pack).
// Nothing of beats is copied here: go.mod pins the beats commit and repeats its replace directives,
// the documented way to build a custom beat.
package main

import (
	"os"

	"github.com/elastic/beats/v7/filebeat/cmd"
	inputs "github.com/elastic/beats/v7/filebeat/input/default-inputs"
)

func main() {
	if err := cmd.Filebeat(inputs.Init, cmd.FilebeatSettings("")).Execute(); err != nil {
		os.Exit(1)
	}
}
