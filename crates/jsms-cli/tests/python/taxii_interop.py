"""Talks to the JSMS TAXII 2.1 server with the OASIS reference client, taxii2-client:
discovery, collections, a pull with added_after, paging, a push and its status, one
object, its versions and the manifest.

Usage: python3 taxii_interop.py BASE_URL TOKEN BUNDLE_TO_PUSH
Prints one JSON document with what it saw.
"""
import json
import sys

import requests
from taxii2client.v21 import Server, as_pages


class Token(requests.auth.AuthBase):
    def __init__(self, token):
        self.token = token

    def __call__(self, r):
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


base, token, bundle_path = sys.argv[1], sys.argv[2], sys.argv[3]
out = {}
server = Server(f"{base}/taxii2/", auth=Token(token))
out["title"] = server.title
root = server.default
out["api_root_versions"] = root.versions
collections = root.collections
out["collections"] = [{"id": c.id, "title": c.title, "can_read": c.can_read, "can_write": c.can_write}
                      for c in collections]
joint = next(c for c in collections if c.title == "Joint")

first = joint.get_objects()
out["before"] = sorted({o["id"] for o in first.get("objects", []) if o["type"] == "report"})
last_added = joint._conn.session.get(
    joint.objects_url, headers={"Accept": "application/taxii+json;version=2.1"}
).headers.get("X-TAXII-Date-Added-Last")
out["date_added_last"] = last_added

pages = list(as_pages(joint.get_objects, per_request=3))
out["pages"] = len(pages)
out["paged_objects"] = sum(len(p.get("objects", [])) for p in pages)
out["all_objects"] = len(first.get("objects", []))

with open(bundle_path, encoding="utf-8") as f:
    bundle = json.load(f)
status = joint.add_objects({"objects": bundle["objects"]})
out["status"] = {"status": status.status, "total_count": status.total_count,
                 "success_count": status.success_count, "failure_count": status.failure_count,
                 "failures": status.failures}
again = root.get_status(status.id)
out["status_again"] = again.status

after = joint.get_objects(added_after=last_added) if last_added else joint.get_objects()
out["after"] = sorted({o["id"] for o in after.get("objects", []) if o["type"] == "report"})
reports = joint.get_objects(type="report")
out["report_types_only"] = sorted({o["type"] for o in reports.get("objects", [])})
pushed = next(o["id"] for o in bundle["objects"] if o["type"] == "report")
one = joint.get_object(pushed)
out["one"] = [o["id"] for o in one.get("objects", [])]
out["versions"] = joint.object_versions(pushed).get("versions", [])
manifest = joint.get_manifest(type="report")
out["manifest"] = [{"id": m["id"], "media_type": m["media_type"]} for m in manifest.get("objects", [])]
print(json.dumps(out))
