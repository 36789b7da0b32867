//! The floor benchmark end to end with few connections: the writer starts its
//! reading process, every frame arrives, and the figures add up.

use std::process::Command;

use serde_json::Value;

#[test]
fn the_floor_benchmark_sends_every_frame_and_reports_its_cost() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("floor.json");
    let output = Command::new(env!("CARGO_BIN_EXE_floor"))
        .args(["--connections", "200", "--rounds", "3", "--paced-rounds", "2", "--pace-ms", "50"])
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines[0].starts_with("floor-burst ") && lines[0].contains(" sends=600 "), "{stdout}");
    assert!(lines[1].starts_with("floor-paced ") && lines[1].contains(" sends=400 "), "{stdout}");

    let figures: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    for (mode, rounds) in [("burst", 3), ("paced", 2)] {
        let run = &figures[mode];
        let number = |field: &str| run[field].as_f64().unwrap_or_else(|| panic!("{mode}.{field}: {run}"));
        assert_eq!(run["connections"], 200);
        assert_eq!(number("sends"), 200.0 * f64::from(rounds));
        assert!(number("writes") >= number("sends"));
        assert!((190.0..=220.0).contains(&number("frame_bytes")));
        assert!(number("total_us") > 0.0 && number("per_sec") > 0.0 && number("reader_us") > 0.0, "{run}");
        assert!((number("user_us") + number("sys_us") - number("total_us")).abs() < 1e-6, "{run}");
        assert!(number("delivered_secs") >= number("send_secs"), "{run}");
    }
    // Two paced rounds are 50 ms apart.
    assert!(figures["paced"]["delivered_secs"].as_f64().unwrap() >= 0.05);
}
