//! SQLite storage of the JSMS store: Threat zones.

use super::*;

fn shape_json(shape: &jsms_domain::zone::ZoneShape) -> StoreResult<String> {
    use jsms_domain::zone::ZoneShape;
    let v = match shape {
        ZoneShape::Polygon(p) => serde_json::json!({ "polygon": p.positions() }),
        ZoneShape::Circle { center, radius_m } => {
            serde_json::json!({ "circle": { "center": [center.lon(), center.lat()], "radius_m": radius_m } })
        }
    };
    json(&v)
}

fn shape_from(text: &str) -> Result<jsms_domain::zone::ZoneShape, String> {
    use jsms_domain::zone::ZoneShape;
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if let Some(ring) = v.get("polygon") {
        let positions: Vec<[f64; 2]> = serde_json::from_value(ring.clone()).map_err(|e| e.to_string())?;
        return Polygon::from_positions(&positions)
            .map(ZoneShape::Polygon)
            .map_err(|e| e.to_string());
    }
    let c = v.get("circle").ok_or("unknown zone shape")?;
    let [lon, lat]: [f64; 2] =
        serde_json::from_value(c.get("center").cloned().unwrap_or_default()).map_err(|e| e.to_string())?;
    let radius_m = c
        .get("radius_m")
        .and_then(serde_json::Value::as_f64)
        .ok_or("no radius")?;
    Ok(ZoneShape::Circle {
        center: Coordinate::new(lat, lon).map_err(|e| e.to_string())?,
        radius_m,
    })
}

const ZONE_COLS: &str = "id, owner_party, shape, severity, kind, valid_from, valid_until, source, notes, version";

fn zone_row(row: &Row<'_>) -> rusqlite::Result<crate::ZoneRecord> {
    let shape: String = row.get(2)?;
    let kind: String = row.get(4)?;
    let severity: i64 = row.get(3)?;
    let zone = jsms_domain::zone::ThreatZone::new(
        shape_from(&shape).map_err(|e| conv_err(2, std::io::Error::other(e)))?,
        u8::try_from(severity).unwrap_or(0),
        jsms_domain::zone::ZoneKind::parse(&kind).map_err(|e| conv_err(4, e))?,
        row.get(5)?,
        row.get(6)?,
    )
    .map_err(|e| conv_err(3, e))?;
    Ok(crate::ZoneRecord {
        id: uuid_at(row, 0)?,
        owner_party: PartyId::from_uuid(uuid_at(row, 1)?),
        zone,
        source: row.get(7)?,
        notes: row.get(8)?,
        version: row.get(9)?,
    })
}

impl crate::ZoneStore for SqliteStore {
    fn create_zone(&self, z: &crate::ZoneRecord, now: i64) -> StoreResult<()> {
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO zones (id, owner_party, shape, severity, kind, valid_from, valid_until, source, notes, version, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?10, ?10)",
                params![
                    b(z.id),
                    b(z.owner_party.uuid()),
                    shape_json(&z.zone.shape)?,
                    z.zone.severity,
                    z.zone.kind.as_str(),
                    z.zone.valid_from,
                    z.zone.valid_until,
                    z.source,
                    z.notes,
                    now
                ],
            )
            .map_err(write_err("unknown party"))?;
            Ok(())
        })
    }

    fn zone(&self, id: Uuid) -> StoreResult<crate::ZoneRecord> {
        let sql = format!("SELECT {ZONE_COLS} FROM zones WHERE id = ?1");
        self.read()?
            .query_row(&sql, [b(id)], zone_row)
            .optional()
            .map_err(internal)?
            .ok_or(StoreError::NotFound)
    }

    fn zones(&self) -> StoreResult<Vec<crate::ZoneRecord>> {
        let sql = format!("SELECT {ZONE_COLS} FROM zones ORDER BY id");
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(&sql).map_err(internal)?;
        let rows = stmt.query_map([], zone_row).map_err(internal)?;
        rows.collect::<Result<_, _>>().map_err(internal)
    }

    fn update_zone(&self, z: &crate::ZoneRecord, version: i64, now: i64) -> StoreResult<crate::ZoneRecord> {
        self.tx(|tx| {
            let n = tx
                .execute(
                    "UPDATE zones SET shape = ?1, severity = ?2, kind = ?3, valid_from = ?4, valid_until = ?5, source = ?6, \
                     notes = ?7, version = version + 1, updated_at = ?8 WHERE id = ?9 AND version = ?10",
                    params![
                        shape_json(&z.zone.shape)?,
                        z.zone.severity,
                        z.zone.kind.as_str(),
                        z.zone.valid_from,
                        z.zone.valid_until,
                        z.source,
                        z.notes,
                        now,
                        b(z.id),
                        version
                    ],
                )
                .map_err(internal)?;
            if n == 0 {
                return Err(stale_or_missing(tx, "zones", z.id));
            }
            let sql = format!("SELECT {ZONE_COLS} FROM zones WHERE id = ?1");
            tx.query_row(&sql, [b(z.id)], zone_row).map_err(internal)
        })
    }

    fn delete_zone(&self, id: Uuid, version: i64) -> StoreResult<()> {
        self.tx(|tx| {
            let n = tx
                .execute(
                    "DELETE FROM zones WHERE id = ?1 AND version = ?2",
                    params![b(id), version],
                )
                .map_err(internal)?;
            if n == 0 {
                return Err(stale_or_missing(tx, "zones", id));
            }
            Ok(())
        })
    }
}
