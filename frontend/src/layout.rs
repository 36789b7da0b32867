//! The schedule arranged for display: days, and per day a column per doctor, with
//! local times computed once per schedule rather than on every render.

use protocol::{Doctor, Schedule, SlotId};

use crate::time;

/// What the page lays out; rebuilt only when a whole new schedule arrives.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layout {
    /// The clinic's name.
    pub clinic: String,
    /// The clinic's IANA time zone.
    pub time_zone: String,
    /// Slots starting sooner than this cannot be booked online.
    pub min_notice_minutes: u32,
    /// The doctors, in display order.
    pub doctors: Vec<Doctor>,
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
}

impl Layout {
    /// Lays out a schedule.
    pub fn build(schedule: &Schedule) -> Self {
        let tz = schedule.clinic.time_zone.as_str();
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
                        label: time::day_label(ms, tz),
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
            });
        }
        days.sort_by(|a, b| a.key.cmp(&b.key));
        Self {
            clinic: schedule.clinic.name.clone(),
            time_zone: tz.to_owned(),
            min_notice_minutes: schedule.clinic.min_notice_minutes,
            doctors: schedule.doctors.clone(),
            days,
        }
    }

    /// A slot's day label, local time, doctor name and specialty.
    pub fn describe(&self, slot: &SlotId) -> Option<(String, String, &Doctor)> {
        self.days.iter().find_map(|day| {
            self.doctors.iter().zip(&day.columns).find_map(|(doctor, cells)| {
                let cell = cells.iter().find(|c| &c.id == slot)?;
                Some((day.label.clone(), cell.time.clone(), doctor))
            })
        })
    }

    /// The day with this key.
    pub fn day(&self, key: &str) -> Option<&Day> {
        self.days.iter().find(|d| d.key == key)
    }
}
