#!/bin/sh
# Replay the template corpus through the fuzz target.
exec "${MKT_BUILDDIR:-.}/test/fuzz/template_replay" test/fuzz/corpora/template
