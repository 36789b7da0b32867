//! SQL text shared by the statements: numbered placeholders (which SQLite and
//! PostgreSQL both accept through the `Any` driver) and the column lists and
//! fragments written once.

/// `($1, $2, $3), ($4, $5, $6)`: `rows` tuples of `columns` numbered
/// placeholders, which both databases accept.
pub(super) fn placeholders(rows: usize, columns: usize) -> String {
    let mut out = String::with_capacity(rows * columns * 5);
    for row in 0..rows {
        if row > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for column in 0..columns {
            if column > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&(row * columns + column + 1).to_string());
        }
        out.push(')');
    }
    out
}

/// `$1, $2, …, $n`, for an `IN (…)` list.
pub(super) fn list(n: usize) -> String {
    (1..=n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// What holds each slot `s` (with its hold `h`): whether it has an active
/// booking, whether it is blocked, and who holds it. Integers rather than
/// booleans, which the `Any` driver cannot read from SQLite.
pub(super) const SLOT_STATE: &str =
    "CASE WHEN EXISTS (SELECT 1 FROM bookings b WHERE b.slot_id = s.id AND b.cancelled_at IS NULL)
             THEN 1 ELSE 0 END AS booked,
        CASE WHEN EXISTS (SELECT 1 FROM blocks k WHERE k.slot_id = s.id) THEN 1 ELSE 0 END AS blocked,
        h.holder";

/// The columns a booking is read with.
pub(super) const BOOKING_COLUMNS: &str =
    "id, slot_id, code, patient_name, patient_phone, created_at, cancelled_at, sequence, no_show_at";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_across_rows() {
        assert_eq!(placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(list(3), "$1, $2, $3");
    }
}
