//! The configured slots written into the database: new ones added, unbooked
//! ones moved to their configured times.

use std::collections::HashMap;

use sqlx::AnyConnection;

use super::text::list;
use crate::Result;
use crate::clinic::SlotDef;

/// Inserts the slots not yet stored and moves unbooked ones to their configured
/// times; returns how many were new.
pub(super) async fn insert_missing(conn: &mut AnyConnection, slots: &[SlotDef]) -> Result<u64> {
    let mut stored: HashMap<String, (i64, i64)> = HashMap::new();
    for chunk in slots.chunks(500) {
        let sql = format!("SELECT id, start_at, end_at FROM slots WHERE id IN ({})", list(chunk.len()));
        let mut query = sqlx::query_as::<_, (String, i64, i64)>(&sql);
        for slot in chunk {
            query = query.bind(slot.id.0.as_str());
        }
        stored.extend(
            query.fetch_all(&mut *conn).await?.into_iter().map(|(id, start, end)| (id, (start, end))),
        );
    }
    let mut added = 0;
    for slot in slots {
        let times = (slot.start.timestamp(), slot.end.timestamp());
        match stored.get(&slot.id.0) {
            Some(&stored) if stored == times => {}
            Some(_) => {
                // A booked slot keeps the times it was booked with.
                sqlx::query(
                    "UPDATE slots SET start_at = $1, end_at = $2 WHERE id = $3
                     AND NOT EXISTS (SELECT 1 FROM bookings WHERE slot_id = $3 AND cancelled_at IS NULL)",
                )
                .bind(times.0)
                .bind(times.1)
                .bind(&slot.id.0)
                .execute(&mut *conn)
                .await?;
            }
            None => {
                let done = sqlx::query(
                    "INSERT INTO slots (id, doctor_id, start_at, end_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT DO NOTHING",
                )
                .bind(&slot.id.0)
                .bind(&slot.doctor_id.0)
                .bind(times.0)
                .bind(times.1)
                .execute(&mut *conn)
                .await?;
                added += done.rows_affected();
            }
        }
    }
    Ok(added)
}
