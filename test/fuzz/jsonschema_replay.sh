#!/bin/sh
# Replay the JSON Schema corpus through the fuzz target.
exec "${MKT_BUILDDIR:-.}/test/fuzz/jsonschema_replay" test/fuzz/corpora/jsonschema
