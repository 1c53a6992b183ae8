"""Reads a JSON list of Prometheus text 0.0.4 bodies on stdin and prints, as a
JSON list, what prometheus_client's own text parser makes of each: the
families it found ({name: [type, number of samples]}), or its error. Run by
the demo's tests with Debian's python3."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

out = []
for body in json.load(sys.stdin):
    try:
        families = [[fam.name, fam.type, len(fam.samples)] for fam in text_string_to_metric_families(body)]
        out.append({"families": families})
    except Exception as e:  # the parser raises ValueError, and others on some bodies
        out.append({"error": "%s: %s" % (type(e).__name__, e)})
json.dump(out, sys.stdout)
