//! Bookings committed in groups: the schedule's rules for each booking of a
//! batch, checked in the one write transaction, in the order given, with the
//! database's unique indexes as the last word.

use std::collections::HashMap;

use protocol::{AuditAction, SlotId, Version};

use super::audit::AuditRow;
use super::rows::occupancy;
use super::text::{list, placeholders};
use super::writer::Writer;
use super::{BookError, NewBooking, Refusal, offered_to};
use crate::Result;

/// Decides and writes a batch of bookings in `w`'s transaction; the caller
/// commits it.
pub(super) async fn book_many(
    w: &mut Writer,
    bookings: &[NewBooking<'_>],
) -> Result<Vec<Result<(Version, i64), BookError>>> {
    let slots: Vec<&SlotId> = bookings.iter().map(|b| b.slot_id).collect();
    let occupied = occupancy(w.conn(), &slots).await?;
    // The rules first, in the order given: the first booking of a slot may
    // take it, a later one in the same batch finds it booked.
    let mut taken = std::collections::HashSet::new();
    let decided: Vec<Result<(), BookError>> = bookings
        .iter()
        .map(|b| {
            let refusal = match occupied.get(&b.slot_id.0) {
                None => Some(Refusal::NoSuchSlot),
                Some(_) if taken.contains(&b.slot_id.0) => Some(Refusal::Booked),
                Some(o) => o.refusal(Some(b.holder)),
            };
            match refusal {
                Some(reason) => Err(BookError::Refused(reason)),
                None => {
                    taken.insert(b.slot_id.0.clone());
                    Ok(())
                }
            }
        })
        .collect();
    let mut decided = decided;
    // A proof of work buys one booking: one spent before is refused here,
    // and the unique index on proofs stands behind this.
    let proofs: Vec<&str> =
        bookings.iter().zip(&decided).filter(|(_, d)| d.is_ok()).filter_map(|(b, _)| b.proof).collect();
    if !proofs.is_empty() {
        // Spent by a booking, or by joining a waitlist.
        let sql = format!(
            "SELECT proof FROM bookings WHERE proof IN ({0}) UNION SELECT proof FROM waitlist WHERE proof IN ({0})",
            list(proofs.len())
        );
        let mut query = sqlx::query_scalar::<_, String>(&sql);
        for proof in &proofs {
            query = query.bind(*proof);
        }
        let mut spent: std::collections::HashSet<String> =
            query.fetch_all(w.conn()).await?.into_iter().collect();
        for (b, d) in bookings.iter().zip(decided.iter_mut()) {
            let Some(proof) = b.proof.filter(|_| d.is_ok()) else { continue };
            // Spent before, or by an earlier booking of this batch.
            if !spent.insert(proof.to_owned()) {
                *d = Err(BookError::Refused(Refusal::ProofSpent));
            }
        }
    }
    let candidates: Vec<&NewBooking<'_>> =
        bookings.iter().zip(&decided).filter(|(_, d)| d.is_ok()).map(|(b, _)| b).collect();
    // Each row that went in, by its code (unique): its id and slot.
    let mut inserted: HashMap<String, (i64, String)> = HashMap::new();
    if !candidates.is_empty() {
        // The unique indexes have the last word: a row that would break one
        // (a second active booking, a code in use) is skipped, and RETURNING
        // tells which rows went in.
        let sql = format!(
            "INSERT INTO bookings (slot_id, code, manage_hash, patient_name, patient_phone, request_id, created_at, proof)
             VALUES {} ON CONFLICT DO NOTHING RETURNING id, slot_id, code",
            placeholders(candidates.len(), 8)
        );
        let mut insert = sqlx::query_as::<_, (i64, String, String)>(&sql);
        for b in &candidates {
            insert = insert
                .bind(b.slot_id.0.as_str())
                .bind(b.code)
                .bind(b.manage_hash)
                .bind(b.patient.name.as_str())
                .bind(b.patient.phone.as_str())
                .bind(b.retry_key)
                .bind(b.at.timestamp())
                .bind(b.proof);
        }
        inserted = insert.fetch_all(w.conn()).await?.into_iter().map(|(id, s, c)| (c, (id, s))).collect();
    }
    if !inserted.is_empty() {
        // A booked slot's hold (the booker's own) ends with it.
        let sql = format!("DELETE FROM holds WHERE slot_id IN ({})", list(inserted.len()));
        let mut release = sqlx::query(&sql);
        for (_, slot) in inserted.values() {
            release = release.bind(slot.as_str());
        }
        release.execute(w.conn()).await?;
    }
    let mut outcomes = Vec::with_capacity(bookings.len());
    for (booking, decision) in bookings.iter().zip(decided) {
        if let Err(refused) = decision {
            outcomes.push(Err(refused));
            continue;
        }
        let went_in =
            inserted.get(booking.code).filter(|(_, slot)| *slot == booking.slot_id.0).map(|(id, _)| *id);
        match went_in {
            Some(id) => {
                // Answers only the first booking that asked for it.
                inserted.remove(booking.code);
                // A waitlist offer taken names its entry too.
                let row = AuditRow::slot(AuditAction::Booked, booking.slot_id).booking(id);
                let row = match offered_to(booking.holder) {
                    Some(entry) => row.entry(entry),
                    None => row,
                };
                w.audit(booking.at, booking.origin, row);
                outcomes.push(Ok((w.booked(booking.slot_id, id), id)));
            }
            // Skipped by an index: the slot's, the proof's, or (very rarely)
            // the code's.
            None => {
                let slot_taken: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM bookings WHERE slot_id = $1 AND cancelled_at IS NULL",
                )
                .bind(booking.slot_id.0.as_str())
                .fetch_one(w.conn())
                .await?;
                let proof_spent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bookings WHERE proof = $1")
                    .bind(booking.proof)
                    .fetch_one(w.conn())
                    .await?;
                outcomes.push(Err(if slot_taken > 0 {
                    BookError::Refused(Refusal::Booked)
                } else if proof_spent > 0 {
                    BookError::Refused(Refusal::ProofSpent)
                } else {
                    BookError::CodeTaken
                }));
            }
        }
    }
    Ok(outcomes)
}
