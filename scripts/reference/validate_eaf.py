"""Validates ELAN files against an EAF XML Schema with lxml (`pip install lxml`).

    python scripts/reference/validate_eaf.py EAFv3.0.xsd a.eaf b.eaf …

The schema is not shipped: ELAN's EAFv3.0.xsd (http://www.mpi.nl/tools/elan/EAFv3.0.xsd; a copy
is in the pympi repository, test/EAFv3.0.xsd)."""
import sys

from lxml import etree

schema = etree.XMLSchema(etree.parse(sys.argv[1]))
bad = 0
for f in sys.argv[2:]:
    ok = schema.validate(etree.parse(f))
    bad += not ok
    print(f"== {f}: {'VALID' if ok else 'INVALID'}")
    for e in schema.error_log:
        print(f"  line {e.line}: {e.message}")
sys.exit(1 if bad else 0)
