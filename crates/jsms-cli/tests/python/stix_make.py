"""Writes a STIX 2.1 bundle made with the OASIS stix2 library: a TLP:GREEN threat report
from an outside source with a located threat (a circle), a threat actor, an indicator and
a note, plus an object no report references.

Usage: python3 stix_make.py OUT
"""
import sys

import stix2

source = stix2.Identity(name="Regional Security Forum (fictional)", identity_class="organization")
common = dict(created_by_ref=source.id, object_marking_refs=[stix2.TLP_GREEN])
place = stix2.Location(latitude=24.8607, longitude=67.0011, precision=400,
                       name="Market crossing", **common)
actor = stix2.ThreatActor(name="Fictional Cell Seven", threat_actor_types=["criminal"], **common)
indicator = stix2.Indicator(name="Scout car plate reader hit",
                            description="Plate seen near three convoys.",
                            pattern="[ipv4-addr:value = '203.0.113.9']", pattern_type="stix",
                            valid_from="2026-11-01T00:00:00Z", **common)
report = stix2.Report(name="Scouting of convoy routes near the market",
                      description="Repeated scouting of the market crossing before convoy passages.",
                      published="2026-11-20T09:30:00Z", report_types=["threat-report"],
                      object_refs=[place.id, actor.id, indicator.id], confidence=70, **common)
note = stix2.Note(content="Corroborated by a second source.", object_refs=[report.id], **common)
unrelated = stix2.AttackPattern(name="Unrelated pattern", **common)
bundle = stix2.Bundle(source, place, actor, indicator, report, note, unrelated)
with open(sys.argv[1], "w", encoding="utf-8") as f:
    f.write(bundle.serialize(pretty=True))
print(report.id)
