//! Accessibility audits with axe-core: the npm package's `axe.min.js` is put
//! into the page under test and run against WCAG 2.0, 2.1 and 2.2 at levels A
//! and AA. `cargo xtask test` fetches the package from the npm registry into
//! `target/npm`, so it is never committed; a test that is asked to run without
//! it fails, saying how to fetch it (see `require_axe!`).

use std::fmt;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::{Session, root};

/// The axe-core release the audits run. `cargo xtask test` installs this very
/// version (a test of the xtask keeps the two the same).
pub const AXE_CORE_VERSION: &str = "4.14.1";

/// The rules run: axe's tags for WCAG 2.0, 2.1 and 2.2 at levels A and AA.
/// (Axe tags the one level-A criterion new in 2.2 that it can test with
/// `wcag22aa` too, so there is no `wcag22a`.)
pub const WCAG_TAGS: [&str; 5] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

/// Where the npm package is installed.
pub fn axe_dir() -> PathBuf {
    root().join("target").join("npm").join("node_modules").join("axe-core")
}

/// The command that fetches the package by hand.
pub fn axe_fetch_command() -> String {
    format!(
        "npm install --no-save --no-package-lock --no-audit --no-fund --prefix target/npm axe-core@{AXE_CORE_VERSION}"
    )
}

/// The text of `axe.min.js`, or what is missing.
pub fn axe_script() -> Result<String, String> {
    let dir = axe_dir();
    let fetch = format!("`cargo xtask test` fetches it, or `{}`", axe_fetch_command());
    let manifest = std::fs::read_to_string(dir.join("package.json"))
        .map_err(|_| format!("axe-core is not installed in {} ({fetch})", dir.display()))?;
    let version = serde_json::from_str::<serde_json::Value>(&manifest)
        .ok()
        .and_then(|m| m["version"].as_str().map(str::to_owned))
        .unwrap_or_default();
    if version != AXE_CORE_VERSION {
        return Err(format!(
            "{} holds axe-core {version:?}, the tests run {AXE_CORE_VERSION} ({fetch})",
            dir.display()
        ));
    }
    std::fs::read_to_string(dir.join("axe.min.js"))
        .map_err(|_| format!("axe-core has no axe.min.js in {} ({fetch})", dir.display()))
}

/// Fails the calling test, saying what is missing, when axe-core is not
/// installed, as `require_browser!` does for the browser.
#[macro_export]
macro_rules! require_axe {
    () => {
        if let Err(why) = $crate::axe_script() {
            panic!("{}", $crate::cannot_run(&why));
        }
    };
}

/// One rule the page breaks, with every element that breaks it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Violation {
    /// The rule, such as `color-contrast`.
    pub id: String,
    /// How much it hurts: minor, moderate, serious or critical.
    pub impact: Option<String>,
    /// What the rule asks for, in one line.
    pub help: String,
    /// Where the rule is explained.
    pub help_url: String,
    /// The elements that break it.
    pub nodes: Vec<Offender>,
}

/// One element that breaks a rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Offender {
    /// CSS selectors of the element (nested lists for frames and shadow roots).
    pub target: Vec<serde_json::Value>,
    /// The start of the element's HTML.
    pub html: String,
    /// What is wrong and how to fix it, as axe says it.
    pub failure_summary: Option<String>,
}

impl Offender {
    /// The element's selector, as one line.
    pub fn selector(&self) -> String {
        let parts: Vec<String> = self
            .target
            .iter()
            .map(|t| match t {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        parts.join(" ")
    }
}

/// At most `limit` characters of `text`, on one line.
fn clip(text: &str, limit: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(limit) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line,
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let impact = self.impact.as_deref().unwrap_or("unrated");
        writeln!(f, "  {} ({impact}): {} <{}>", self.id, self.help, self.help_url)?;
        for node in &self.nodes {
            writeln!(f, "    at {}: {}", node.selector(), clip(&node.html, 160))?;
            if let Some(summary) = &node.failure_summary {
                writeln!(f, "       {}", clip(summary, 300))?;
            }
        }
        Ok(())
    }
}

/// The report of the violations found in one state of the page; empty when
/// there are none.
pub fn describe_violations(state: &str, violations: &[Violation]) -> String {
    if violations.is_empty() {
        return String::new();
    }
    let elements: usize = violations.iter().map(|v| v.nodes.len()).sum();
    let mut text = format!("{state}: {} axe rule(s) broken by {elements} element(s)\n", violations.len());
    for violation in violations {
        text.push_str(&violation.to_string());
    }
    text
}

/// Fails, listing every violation, unless there are none.
pub fn assert_no_violations(state: &str, violations: &[Violation]) -> Result<()> {
    if violations.is_empty() {
        return Ok(());
    }
    bail!(
        "WCAG 2.2 AA violations found by axe-core {AXE_CORE_VERSION}\n{}",
        describe_violations(state, violations)
    )
}

impl Session {
    /// Runs axe-core on the page as it is now and returns what it finds against
    /// `WCAG_TAGS`. The script is put into the page the first time; scripts run
    /// through WebDriver are not bound by the page's Content-Security-Policy.
    /// Transitions and animations that end (a changed slot's highlight) are
    /// waited for first: colours caught halfway are not what anyone reads.
    pub async fn axe(&self) -> Result<Vec<Violation>> {
        let loaded = self.browser.execute("return typeof window.axe === 'object';", vec![]).await?;
        if loaded != serde_json::Value::Bool(true) {
            let script = axe_script().map_err(|why| anyhow::anyhow!(crate::cannot_run(&why)))?;
            self.browser.execute(&script, vec![]).await.context("putting axe-core into the page")?;
            let version = self.browser.execute("return window.axe && window.axe.version;", vec![]).await?;
            if version.as_str() != Some(AXE_CORE_VERSION) {
                bail!("axe-core did not load into the page (its version: {version})");
            }
        }
        let found = self
            .browser
            .execute_async(
                "const [tags, done] = arguments;
                 const settling = document.getAnimations().filter(a =>
                     a.playState === 'running' && a.effect && a.effect.getComputedTiming().endTime !== Infinity);
                 Promise.all(settling.map(a => a.finished.catch(() => null)))
                     .then(() => axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }))
                     .then(r => done({ violations: r.violations }), e => done({ error: String(e) }));",
                vec![serde_json::json!(WCAG_TAGS)],
            )
            .await
            .context("running axe-core")?;
        if let Some(error) = found.get("error") {
            bail!("axe-core failed: {error}");
        }
        serde_json::from_value(found["violations"].clone()).context("reading axe-core's violations")
    }

    /// Runs axe-core and fails, listing each violation under `state`, unless
    /// the page as it is now has none.
    pub async fn assert_accessible(&self, state: &str) -> Result<()> {
        assert_no_violations(state, &self.axe().await?)
    }
}

/// The audits of one test, several states of the page each: every state is
/// audited, and the test fails at the end listing every state's violations,
/// so that one broken state does not hide the others.
#[derive(Debug, Default)]
pub struct Audit {
    audited: Vec<String>,
    failed: Vec<String>,
}

impl Audit {
    /// Audits the page of `session` as it is now, as `state`.
    pub async fn check(&mut self, session: &Session, state: &str) -> Result<()> {
        let violations = session.axe().await.with_context(|| format!("auditing {state}"))?;
        let elements: usize = violations.iter().map(|v| v.nodes.len()).sum();
        eprintln!("axe: {state}: {} rule(s) broken by {elements} element(s)", violations.len());
        self.audited.push(state.to_owned());
        if !violations.is_empty() {
            self.failed.push(describe_violations(state, &violations));
        }
        Ok(())
    }

    /// Fails listing the violations of every state audited, unless there were none.
    pub fn finish(self) -> Result<()> {
        if self.failed.is_empty() {
            eprintln!("axe: no violations in {} state(s): {}", self.audited.len(), self.audited.join("; "));
            return Ok(());
        }
        bail!(
            "WCAG 2.2 AA violations found by axe-core {AXE_CORE_VERSION} in {} of {} state(s)\n{}",
            self.failed.len(),
            self.audited.len(),
            self.failed.join("")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violation() -> Violation {
        serde_json::from_value(serde_json::json!({
            "id": "color-contrast",
            "impact": "serious",
            "help": "Elements must meet minimum color contrast ratio thresholds",
            "helpUrl": "https://dequeuniversity.com/rules/axe/4.14/color-contrast",
            "tags": ["wcag2aa"],
            "nodes": [{
                "target": [".slot.past > .state"],
                "html": "<span class=\"state\">\n  Past</span>",
                "failureSummary": "Fix any of the following:\n  Element has insufficient color contrast of 2.4",
                "any": [], "all": [], "none": []
            }]
        }))
        .expect("axe's shape")
    }

    #[test]
    fn a_violation_is_listed_with_its_rule_impact_help_selector_and_html() {
        let report = describe_violations("schedule (en)", &[violation()]);
        assert!(report.starts_with("schedule (en): 1 axe rule(s) broken by 1 element(s)"), "{report}");
        assert!(report.contains("color-contrast (serious): Elements must meet"), "{report}");
        assert!(report.contains("at .slot.past > .state: <span class=\"state\"> Past</span>"), "{report}");
        assert!(report.contains("insufficient color contrast of 2.4"), "{report}");
        let failed = assert_no_violations("schedule (en)", &[violation()]).unwrap_err().to_string();
        assert!(failed.contains("schedule (en)") && failed.contains("color-contrast"), "{failed}");
        assert!(assert_no_violations("schedule (en)", &[]).is_ok());
    }

    #[test]
    fn long_html_is_clipped_to_one_line() {
        assert_eq!(clip("a\n  b", 10), "a b");
        assert_eq!(clip("абвгд", 3), "абв…");
    }

    #[test]
    fn an_audit_fails_naming_each_state_with_violations() {
        let audit = Audit {
            audited: vec!["schedule (en)".into(), "dialog (en)".into()],
            failed: vec![describe_violations("dialog (en)", &[violation()])],
        };
        let failed = audit.finish().unwrap_err().to_string();
        assert!(failed.contains("in 1 of 2 state(s)") && failed.contains("dialog (en):"), "{failed}");
        assert!(Audit::default().finish().is_ok());
    }
}
