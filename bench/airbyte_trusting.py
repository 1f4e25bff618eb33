"""Run an Airbyte source's entry point trusting one more certificate: the bench's emulator's.

Airbyte's sources only speak https, and airbyte-cdk sends its requests without the
environment's CA settings (`REQUESTS_CA_BUNDLE` is not read), so the bench, which
serves an emulated site over TLS with a throwaway self-signed certificate, adds that
certificate to requests' default trust here. Usage, from the source's own venv:

    BENCH_TRUST_CERT=cert.pem python airbyte_trusting.py source_jira.run:run read --config …
"""

import importlib
import os
import sys

import requests.adapters

certificate = os.environ["BENCH_TRUST_CERT"]
preloaded = getattr(requests.adapters, "_preloaded_ssl_context", None)
if preloaded is not None:  # requests 2.32-2.33 verify with a context built at import
    preloaded.load_verify_locations(certificate)
else:  # other versions read the default bundle's path at each request
    bundle = certificate + ".bundle.pem"
    with open(bundle, "w") as out:
        for path in (requests.adapters.DEFAULT_CA_BUNDLE_PATH, certificate):
            with open(path) as source:
                out.write(source.read() + "\n")
    requests.adapters.DEFAULT_CA_BUNDLE_PATH = bundle
module, _, function = sys.argv[1].partition(":")
sys.argv = [module, *sys.argv[2:]]
sys.exit(getattr(importlib.import_module(module), function)())
