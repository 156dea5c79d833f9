#!/bin/sh
set -e
elastalert-create-index --config /opt/elastalert/config.yaml
elastalert --config /opt/elastalert/config.yaml "$@"
