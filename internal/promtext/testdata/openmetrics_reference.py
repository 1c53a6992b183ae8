"""Reads a JSON list of OpenMetrics bodies on stdin and prints, as a JSON
list, what prometheus_client's OpenMetrics parser (the reference parser the
OpenMetrics project tests against) says of each: "accepted", or its error.
Run by TestOpenMetricsRulesAgreeWithPrometheusClient with Debian's python3."""
import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families

out = []
for body in json.load(sys.stdin):
    try:
        list(text_string_to_metric_families(body))
        out.append("accepted")
    except Exception as e:  # the parser raises ValueError, and others on some bodies
        out.append("%s: %s" % (type(e).__name__, e))
json.dump(out, sys.stdout)
