//! The schedule arranged for display in one language: days, and per day a
//! column per doctor, with local times and the doctors' texts computed once per
//! schedule and language rather than on every render.

use protocol::{Doctor, Schedule, SlotId, SlotStatus};

use crate::i18n::Locale;
use crate::language;
use crate::state::Board;
use crate::time;

/// What the page lays out; rebuilt only when a whole new schedule arrives or
/// the language changes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layout {
    /// The clinic's name, in the page's language.
    pub clinic: String,
    /// The clinic's IANA time zone.
    pub time_zone: String,
    /// The clinic's default language (a BCP 47 tag; empty from older servers).
    pub default_language: String,
    /// Slots starting sooner than this cannot be booked online.
    pub min_notice_minutes: u32,
    /// The doctors, in display order, with name and specialty in the page's
    /// language.
    pub doctors: Vec<Doctor>,
    /// Per doctor, the language of its texts when the clinic file has none in
    /// the page's language (they are then in the default one), for `lang`.
    pub doctor_langs: Vec<Option<String>>,
    /// The same for the clinic's name.
    pub clinic_lang: Option<String>,
    /// The bookable days, in order.
    pub days: Vec<Day>,
}

/// One local day.
#[derive(Debug, Clone, PartialEq)]
pub struct Day {
    /// `YYYY-MM-DD` in the clinic's zone.
    pub key: String,
    /// Such as `Tue 24 Nov`.
    pub label: String,
    /// Such as `Tuesday 24 November`, for sentences and screen readers.
    pub long: String,
    /// Per doctor (in `Layout::doctors` order), that doctor's slots this day.
    pub columns: Vec<Vec<Cell>>,
}

/// One slot's fixed display data; its status comes from the board.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// The slot.
    pub id: SlotId,
    /// Local start, such as `09:30`.
    pub time: String,
    /// Start in milliseconds since the epoch, to tell past slots.
    pub start_ms: i64,
    /// End in milliseconds since the epoch, to tell the appointments going on.
    pub end_ms: i64,
}

impl Layout {
    /// Lays out a schedule for readers of `locale`.
    pub fn build(schedule: &Schedule, locale: Locale) -> Self {
        let tz = schedule.clinic.time_zone.as_str();
        let intl = language::intl(locale);
        let mut days: Vec<Day> = Vec::new();
        for slot in &schedule.slots {
            let ms = slot.start.timestamp_millis();
            let key = time::day_key(ms, tz);
            let Some(column) = schedule.doctors.iter().position(|d| d.id == slot.doctor_id) else {
                continue;
            };
            let day = match days.iter().position(|d| d.key == key) {
                Some(i) => &mut days[i],
                None => {
                    days.push(Day {
                        label: time::day_label(ms, tz, intl),
                        long: time::long_day_label(ms, tz, intl),
                        key,
                        columns: vec![Vec::new(); schedule.doctors.len()],
                    });
                    days.last_mut().expect("just pushed")
                }
            };
            day.columns[column].push(Cell {
                id: slot.id.clone(),
                time: time::time_label(ms, tz),
                start_ms: ms,
                end_ms: slot.end.timestamp_millis(),
            });
        }
        days.sort_by(|a, b| a.key.cmp(&b.key));
        let tag = language::tag(locale);
        let default = &schedule.clinic.default_language;
        // A text missing in the page's language is shown in the default one,
        // marked so that screen readers pronounce it right.
        let fallback = |has: bool| {
            (!has && !default.is_empty() && language::parse(default) != Some(locale)).then(|| default.clone())
        };
        let speaks = |tags: Vec<&String>| tags.into_iter().any(|t| language::parse(t) == Some(locale));
        let doctor_langs =
            schedule.doctors.iter().map(|d| fallback(speaks(d.texts.keys().collect()))).collect();
        let clinic_lang = fallback(speaks(schedule.clinic.names.keys().collect()));
        let doctors = schedule
            .doctors
            .iter()
            .map(|d| {
                let text = d.text_in(tag);
                Doctor { name: text.name, specialty: text.specialty, ..d.clone() }
            })
            .collect();
        Self {
            clinic: schedule.clinic.name_in(tag).to_owned(),
            time_zone: tz.to_owned(),
            default_language: schedule.clinic.default_language.clone(),
            min_notice_minutes: schedule.clinic.min_notice_minutes,
            doctors,
            doctor_langs,
            clinic_lang,
            days,
        }
    }

    /// A slot's day (long label), local time, and doctor.
    pub fn describe(&self, slot: &SlotId) -> Option<(String, String, &Doctor)> {
        self.days.iter().find_map(|day| {
            self.doctors.iter().zip(&day.columns).find_map(|(doctor, cells)| {
                let cell = cells.iter().find(|c| &c.id == slot)?;
                Some((day.long.clone(), cell.time.clone(), doctor))
            })
        })
    }

    /// The day with this key.
    pub fn day(&self, key: &str) -> Option<&Day> {
        self.days.iter().find(|d| d.key == key)
    }

    /// The first day that still has a slot a patient can book at `now_ms`, else
    /// the first day that is not over, else the first day.
    pub fn first_open_day(&self, board: &Board, now_ms: i64) -> Option<&Day> {
        let not_over = |c: &Cell| c.start_ms > now_ms;
        self.days
            .iter()
            .find(|d| self.bookable(d, board, now_ms))
            .or_else(|| self.days.iter().find(|d| d.columns.iter().flatten().any(not_over)))
            .or(self.days.first())
    }

    /// Whether `day` has a slot a patient can book online at `now_ms`: free,
    /// and not starting within the clinic's minimum notice.
    pub fn bookable(&self, day: &Day, board: &Board, now_ms: i64) -> bool {
        day.columns.iter().flatten().any(|c| self.open(c, board, now_ms))
    }

    /// Whether the doctor at `doctor` (in `doctors` order) has a slot on any
    /// day that a patient can book online at `now_ms`; when not, the page
    /// offers the doctor's waitlist above all.
    pub fn doctor_bookable(&self, doctor: usize, board: &Board, now_ms: i64) -> bool {
        self.days.iter().filter_map(|d| d.columns.get(doctor)).flatten().any(|c| self.open(c, board, now_ms))
    }

    /// Whether a patient can book the slot of `cell` online at `now_ms`: free,
    /// and not starting within the clinic's minimum notice.
    fn open(&self, cell: &Cell, board: &Board, now_ms: i64) -> bool {
        let notice_ms = i64::from(self.min_notice_minutes) * 60_000;
        cell.start_ms > now_ms + notice_ms && board.status(&cell.id) == Some(SlotStatus::Free)
    }
}

impl Day {
    /// The first and last start of this day's slots that have begun by
    /// `now_ms`, across all doctors, if any have.
    pub fn past_span(&self, now_ms: i64) -> Option<(&str, &str)> {
        let mut past = self.columns.iter().flatten().filter(|c| c.start_ms <= now_ms);
        let first = past.next()?;
        let (first, last) = past.fold((first, first), |(lo, hi), c| {
            (if c.start_ms < lo.start_ms { c } else { lo }, if c.start_ms > hi.start_ms { c } else { hi })
        });
        Some((first.time.as_str(), last.time.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{schedule, slot};

    /// Milliseconds since the epoch of `hh_mm` (UTC) on day `day` of November.
    fn at(day: u32, hh_mm: &str) -> i64 {
        let text = format!("2026-11-{day:02}T{hh_mm}:00Z");
        text.parse::<chrono::DateTime<chrono::Utc>>().unwrap().timestamp_millis()
    }

    fn cell(id: &str, day: u32, hh_mm: &str) -> Cell {
        Cell {
            id: SlotId(id.into()),
            time: hh_mm.into(),
            start_ms: at(day, hh_mm),
            end_ms: at(day, hh_mm) + 1_800_000,
        }
    }

    /// Day `day` of November, with a column of cells per doctor.
    fn day(day: u32, columns: Vec<Vec<Cell>>) -> Day {
        let key = format!("2026-11-{day:02}");
        Day { label: key.clone(), long: key.clone(), key, columns }
    }

    fn layout(min_notice_minutes: u32, days: Vec<Day>) -> Layout {
        Layout { min_notice_minutes, days, ..Layout::default() }
    }

    /// A board that knows these slots in these states, as the server sent them.
    fn board_of(slots: &[(&str, SlotStatus)]) -> Board {
        let mut board = Board::default();
        board.apply(schedule(1, slots.iter().map(|(id, status)| slot(id, *status)).collect()));
        board
    }

    fn key(day: Option<&Day>) -> Option<&str> {
        day.map(|d| d.key.as_str())
    }

    /// Four days seen on the 24th at 12:00: the first has only a past free slot,
    /// the second only free slots too soon to book (an hour's notice) or unknown
    /// to the board, the third a free slot of its second doctor, the fourth
    /// free slots too.
    fn week() -> (Layout, Board) {
        let days = vec![
            day(24, vec![vec![cell("past", 24, "11:00"), cell("booked", 24, "15:00")], vec![]]),
            day(
                25,
                vec![
                    vec![cell("held", 25, "09:00"), cell("blocked", 25, "10:00")],
                    vec![cell("unknown", 25, "11:00")],
                ],
            ),
            day(26, vec![vec![cell("booked-too", 26, "09:00")], vec![cell("open", 26, "10:00")]]),
            day(27, vec![vec![cell("later", 27, "09:00")], vec![]]),
        ];
        let board = board_of(&[
            ("past", SlotStatus::Free),
            ("booked", SlotStatus::Booked),
            ("held", SlotStatus::Held),
            ("blocked", SlotStatus::Blocked),
            ("booked-too", SlotStatus::Booked),
            ("open", SlotStatus::Free),
            ("later", SlotStatus::Free),
        ]);
        (layout(60, days), board)
    }

    #[test]
    fn the_first_open_day_is_the_first_with_a_free_slot_that_can_still_be_booked() {
        let (layout, board) = week();
        let now = at(24, "12:00");
        assert_eq!(key(layout.first_open_day(&board, now)), Some("2026-11-26"));
        // Once its slot is taken, the next day with a free one.
        let mut taken = board.clone();
        taken.apply(crate::fixtures::update(2, "open", SlotStatus::Booked));
        assert_eq!(key(layout.first_open_day(&taken, now)), Some("2026-11-27"));
    }

    #[test]
    fn a_free_slot_within_the_minimum_notice_does_not_open_its_day() {
        let days = vec![
            day(24, vec![vec![cell("soon", 24, "12:30"), cell("edge", 24, "13:00")]]),
            day(25, vec![vec![cell("open", 25, "09:00")]]),
        ];
        let board =
            board_of(&[("soon", SlotStatus::Free), ("edge", SlotStatus::Free), ("open", SlotStatus::Free)]);
        let now = at(24, "12:00");
        // The server refuses a start at or before now plus the notice.
        assert_eq!(key(layout(60, days.clone()).first_open_day(&board, now)), Some("2026-11-25"));
        assert_eq!(
            key(layout(59, days.clone()).first_open_day(&board, now)),
            Some("2026-11-24"),
            "13:00 is bookable"
        );
        assert_eq!(key(layout(0, days).first_open_day(&board, now)), Some("2026-11-24"));
    }

    #[test]
    fn without_a_bookable_slot_the_first_day_not_over_is_chosen_else_the_first_day() {
        let (layout, board) = week();
        let nothing_free = board_of(&[]);
        assert_eq!(
            key(layout.first_open_day(&nothing_free, at(24, "12:00"))),
            Some("2026-11-24"),
            "15:00 is not over"
        );
        assert_eq!(key(layout.first_open_day(&nothing_free, at(24, "16:00"))), Some("2026-11-25"));
        assert_eq!(
            key(layout.first_open_day(&board, at(27, "09:30"))),
            Some("2026-11-24"),
            "every day is over"
        );
        assert_eq!(
            key(layout.first_open_day(&board, at(27, "09:00"))),
            Some("2026-11-24"),
            "09:00 has begun"
        );
        assert_eq!(Layout::default().first_open_day(&board, 0), None, "no days at all");
    }

    #[test]
    fn a_doctor_is_bookable_while_any_day_has_a_free_slot_of_theirs_that_can_still_be_booked() {
        let (layout, board) = week();
        let now = at(24, "12:00");
        // The first doctor's only free slots are past (the 24th) or on the 27th.
        assert!(layout.doctor_bookable(0, &board, now));
        assert!(layout.doctor_bookable(1, &board, now), "the 26th at 10:00");
        let mut taken = board.clone();
        taken.apply(crate::fixtures::update(2, "open", SlotStatus::Booked));
        assert!(!layout.doctor_bookable(1, &taken, now), "the second doctor's last free slot was taken");
        assert!(!layout.doctor_bookable(0, &board, at(27, "08:30")), "09:00 is within the notice");
        assert!(!layout.doctor_bookable(5, &board, now), "no such doctor");
    }

    #[test]
    fn the_past_span_runs_from_the_first_to_the_last_begun_slot_across_doctors() {
        let day = day(
            25,
            vec![
                vec![cell("a1", 25, "09:00"), cell("a2", 25, "10:00"), cell("a3", 25, "11:00")],
                // Out of order: the span takes the earliest and latest, not the first and last listed.
                vec![cell("b2", 25, "09:30"), cell("b1", 25, "08:30"), cell("b3", 25, "12:00")],
                vec![],
            ],
        );
        assert_eq!(day.past_span(at(25, "08:00")), None, "nothing has begun");
        assert_eq!(day.past_span(at(25, "08:30")), Some(("08:30", "08:30")), "a slot begins at its start");
        assert_eq!(day.past_span(at(25, "10:15")), Some(("08:30", "10:00")));
        assert_eq!(day.past_span(at(26, "00:00")), Some(("08:30", "12:00")));
        assert_eq!(self::day(25, vec![vec![], vec![]]).past_span(at(26, "00:00")), None, "no slots");
    }
}
