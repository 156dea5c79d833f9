"""The Elastic stack version, pinned in ONE place: the .env.example / compose default reads the same value.

A test checks docker-compose.yml, .env.example and the Filebeat build against this constant.
"""

ELASTIC_STACK_VERSION = "9.3.0"
