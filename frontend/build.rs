//! Turns the page's translations (`locales/en.json`, `locales/ru.json`) into the
//! typed `i18n` module: a key missing from either language, or a variable one
//! language uses and the other does not, fails the build.

use std::path::PathBuf;

use leptos_i18n_build::{Config, ParseOptions, TranslationsInfos};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("cargo sets OUT_DIR")?).join("i18n");
    // Texts with variables are also made as plain strings, for attributes such as
    // a slot's accessible name.
    let options = ParseOptions::new().interpolate_display(true);
    let config = Config::new("en")?.add_locale("ru")?.parse_options(options);
    let translations = TranslationsInfos::parse(config)?;
    translations.emit_diagnostics();
    translations.rerun_if_locales_changed();
    translations.generate_i18n_module(out)?;
    Ok(())
}
