"""Log-Platform's own CLI: setup (installs the Elasticsearch and Kibana assets), doctor, API keys."""
