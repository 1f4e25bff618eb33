import sys

from airbyte_cdk.entrypoint import launch

from counting_source import CountingSource

if __name__ == "__main__":
    launch(CountingSource(), sys.argv[1:])
