//! What the accessibility tests do and read beyond clicking: key presses
//! through the WebDriver actions (as a keyboard-only user makes them), where
//! the focus is, the accessible name the browser computes for an element, the
//! slots shown, and the page's language.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fantoccini::Locator;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::wd::WebDriverCompatibleCommand;
use serde::Deserialize;

use crate::{PATIENCE, Session, eventually};

/// The element that has the focus, as the tests look at it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Focus {
    /// Its tag name, lower case; `body` when nothing has the focus.
    pub tag: String,
    /// Its `id`, if any.
    pub id: Option<String>,
    /// Its `type` attribute, if any (inputs and buttons).
    pub kind: Option<String>,
    /// Its `data-slot-id`: the focus is on that slot's button.
    pub slot: Option<String>,
    /// Its `data-day`: the focus is on that day's button.
    pub day: Option<String>,
    /// Its `data-language`: the focus is on that button of the language switcher.
    pub language: Option<String>,
    /// Whether it is inside a dialog.
    pub in_dialog: bool,
    /// The start of its HTML, for failure messages.
    pub html: String,
}

impl Focus {
    /// Whether the focus is on the element with this `id`.
    pub fn is(&self, id: &str) -> bool {
        self.id.as_deref() == Some(id)
    }
}

/// The WebDriver command "Get Computed Label": the accessible name the browser
/// itself computes for an element, which is what a screen reader announces.
#[derive(Debug)]
struct ComputedLabel(String);

impl WebDriverCompatibleCommand for ComputedLabel {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/element/{}/computedlabel", session.unwrap_or_default(), self.0))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::GET, None)
    }
}

impl Session {
    /// Presses and releases one key, as the keyboard does.
    pub async fn press(&self, key: Key) -> Result<()> {
        let key = char::from(key);
        let actions = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        self.browser.perform_actions(actions).await?;
        Ok(())
    }

    /// Types `text` key by key into whatever has the focus.
    pub async fn type_keys(&self, text: &str) -> Result<()> {
        let mut actions = KeyActions::new("keyboard".into());
        for key in text.chars() {
            actions = actions.then(KeyAction::Down { value: key }).then(KeyAction::Up { value: key });
        }
        self.browser.perform_actions(actions).await?;
        Ok(())
    }

    /// The element that has the focus now.
    pub async fn focus(&self) -> Result<Focus> {
        let found = self
            .browser
            .execute(
                "const el = document.activeElement || document.body;
                 return {
                     tag: el.tagName.toLowerCase(),
                     id: el.id || null,
                     kind: el.getAttribute('type'),
                     slot: el.getAttribute('data-slot-id'),
                     day: el.getAttribute('data-day'),
                     language: el.getAttribute('data-language'),
                     inDialog: !!el.closest('[role=dialog], [role=alertdialog], dialog'),
                     html: el.outerHTML.slice(0, 200),
                 };",
                vec![],
            )
            .await?;
        Ok(serde_json::from_value(found)?)
    }

    /// Waits until the focus is where `wanted` says, and returns it; fails
    /// naming `what` and where the focus was instead.
    pub async fn wait_focus(&self, what: &str, wanted: impl Fn(&Focus) -> bool) -> Result<Focus> {
        let started = Instant::now();
        loop {
            let focus = self.focus().await?;
            if wanted(&focus) {
                return Ok(focus);
            }
            if started.elapsed() > PATIENCE {
                bail!("gave up after {PATIENCE:?} waiting until {what}; the focus is on {}", focus.html);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Presses `key` until the focus is where `wanted` says, at most `most`
    /// times, and returns it; fails naming `what` and every stop on the way.
    pub async fn press_until(
        &self,
        key: Key,
        most: usize,
        what: &str,
        wanted: impl Fn(&Focus) -> bool,
    ) -> Result<Focus> {
        let mut stops = Vec::new();
        for _ in 0..most {
            self.press(key).await?;
            let focus = self.focus().await?;
            if wanted(&focus) {
                return Ok(focus);
            }
            stops.push(focus.html);
        }
        bail!("{most} presses did not bring the focus to {what}; it went to:\n  {}", stops.join("\n  "))
    }

    /// The accessible name the browser computes for `element`.
    pub async fn accessible_name(&self, element: &Element) -> Result<String> {
        let id = element.element_id().to_string();
        let name =
            self.browser.issue_cmd(ComputedLabel(id)).await.context("asking for the computed label")?;
        name.as_str().map(str::to_owned).context("a computed label is a string")
    }

    /// The ids of the slot buttons shown, in the page's order: all of them, or
    /// those whose `data-status` is `status`.
    pub async fn slot_ids(&self, status: Option<&str>) -> Result<Vec<String>> {
        let css = match status {
            Some(status) => format!("button.slot[data-status='{status}']"),
            None => "button.slot".to_owned(),
        };
        let mut ids = Vec::new();
        for button in self.browser.find_all(Locator::Css(&css)).await? {
            ids.push(button.attr("data-slot-id").await?.context("slot without id")?);
        }
        Ok(ids)
    }

    /// Shows the first day with at least `at_least` free slots (late in the
    /// day, today may have only a few left) and returns it with its first free
    /// slot.
    pub async fn day_with_free_slots(&self, at_least: usize) -> Result<(String, String)> {
        for tab in self.browser.find_all(Locator::Css(".tab")).await? {
            tab.click().await?;
            let day = tab.attr("data-day").await?.context("tab without day")?;
            let free = self.browser.find_all(Locator::Css("button.slot[data-status='free']")).await?;
            if free.len() >= at_least.max(1) {
                let id = free[0].attr("data-slot-id").await?.context("slot without id")?;
                return Ok((day, id));
            }
        }
        bail!("no day has {at_least} free slots")
    }

    /// The page's language, `<html lang>`.
    pub async fn language(&self) -> Result<String> {
        let lang = self.browser.execute("return document.documentElement.lang;", vec![]).await?;
        Ok(lang.as_str().unwrap_or_default().to_owned())
    }

    /// Chooses `language` (`ru` or `en`) with the header's switcher and waits
    /// until the page says it is in that language.
    pub async fn choose_language(&self, language: &str) -> Result<()> {
        let button = format!("[data-language='{language}']");
        self.wait_for(&button).await.with_context(|| format!("the language switcher has no {language}"))?;
        self.click(&button).await?;
        self.wait_language(language).await
    }

    /// Waits until `<html lang>` is `language` and the switcher shows it chosen.
    pub async fn wait_language(&self, language: &str) -> Result<()> {
        eventually(&format!("the page is in {language}"), || async {
            Ok(self.language().await? == language)
        })
        .await?;
        let pressed = format!("[data-language='{language}'][aria-pressed='true']");
        self.wait_for(&pressed).await.with_context(|| format!("the switcher shows {language} chosen"))?;
        Ok(())
    }
}
