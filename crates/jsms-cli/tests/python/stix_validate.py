"""Validates a STIX 2.1 bundle with the OASIS stix2-validator.

Usage: python3 stix_validate.py FILE
Prints {"valid": bool, "errors": [...], "warnings": [...]} and exits 1 when not valid.
"""
import json
import sys

from stix2validator import ValidationOptions, validate_file

results = validate_file(sys.argv[1], ValidationOptions(version="2.1"))
errors, warnings = [], []
for obj in results.object_results:
    errors.extend(f"{obj.object_id}: {e}" for e in obj.errors)
    warnings.extend(f"{obj.object_id}: {w}" for w in obj.warnings)
errors.extend(str(e) for e in getattr(results, "fatal", None) and [results.fatal] or [])
print(json.dumps({"valid": bool(results.is_valid), "errors": errors, "warnings": warnings}))
sys.exit(0 if results.is_valid else 1)
