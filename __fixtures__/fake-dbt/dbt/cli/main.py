# A stand-in for dbt's programmatic entry point (dbt.cli.main.dbtRunner), for the unit tests of
# src/dbt/worker.ts: each invocation is appended to $FAKE_DBT_LOG as JSON, with the manifest it
# was given, and the command line scripts the outcome.
import json
import os
import sys
import time

parses = 0
# The run-operation macros that script an outcome other than success.
ACTIONS = {"fail", "error", "crash", "hang", "marker-like"}


class dbtRunnerResult:
    def __init__(self, success, result=None, exception=None):
        self.success = success
        self.result = result
        self.exception = exception


class dbtRunner:
    def __init__(self, manifest=None):
        self.manifest = manifest

    def invoke(self, args):
        global parses
        with open(os.environ["FAKE_DBT_LOG"], "a") as log:
            entry = {"args": args, "manifest": self.manifest, "pid": os.getpid(), "argv": sys.argv}
            log.write(json.dumps(entry) + "\n")
        print(f"fake dbt {' '.join(args)}")
        if "--vars" in args and "broken" in args[args.index("--vars") + 1]:
            print("Parsing Error: broken vars")
            return dbtRunnerResult(False, exception=ValueError("broken vars"))
        if args[0] == "parse" and "--vars" in args and "slow" in args[args.index("--vars") + 1]:
            try:
                time.sleep(3600)
            except KeyboardInterrupt as interrupt:
                return dbtRunnerResult(False, exception=interrupt)
        if args[0] == "parse":
            parses += 1
            return dbtRunnerResult(True, result=f"manifest-{parses}")
        action = next((arg for arg in args if arg in ACTIONS), None)
        if action == "fail":
            return dbtRunnerResult(False)
        if action == "error":
            return dbtRunnerResult(False, exception=RuntimeError("boom"))
        if action == "crash":
            sys.stdout.flush()
            os._exit(3)
        if action == "hang":
            try:
                time.sleep(3600)
            except KeyboardInterrupt as interrupt:
                print("cancelled")
                return dbtRunnerResult(False, exception=interrupt)
        if action == "marker-like":
            print("dbt-worker-0000 {\"exit\": 9}")
        return dbtRunnerResult(True)
