//! Pingly's own tables, on the vendor's pool of the runtime's database. Applied once per
//! database by `Store::migrate`, under its lock, so instances starting together all come up.
//! Append only: a released migration is never edited; add another.

use addon_runtime::Migrations;

pub(crate) fn migrations() -> Migrations {
    Migrations::new("pingly")
        .add_per_backend(
            "monitors",
            "CREATE TABLE pingly_monitors (id INTEGER PRIMARY KEY AUTOINCREMENT, \
             resource_uuid TEXT NOT NULL, url TEXT NOT NULL, created BIGINT NOT NULL)",
            "CREATE TABLE pingly_monitors (id BIGSERIAL PRIMARY KEY, \
             resource_uuid TEXT NOT NULL, url TEXT NOT NULL, created BIGINT NOT NULL)",
        )
        .add(
            "monitors by resource",
            "CREATE INDEX pingly_monitors_resource ON pingly_monitors (resource_uuid)",
        )
        .add_per_backend(
            "checks",
            // `status` is the HTTP status, 0 when the target did not answer in time (or at all).
            "CREATE TABLE pingly_checks (id INTEGER PRIMARY KEY AUTOINCREMENT, monitor_id BIGINT NOT NULL, \
             status BIGINT NOT NULL, latency_ms BIGINT NOT NULL, checked_at BIGINT NOT NULL)",
            "CREATE TABLE pingly_checks (id BIGSERIAL PRIMARY KEY, monitor_id BIGINT NOT NULL, \
             status BIGINT NOT NULL, latency_ms BIGINT NOT NULL, checked_at BIGINT NOT NULL)",
        )
        .add("checks by monitor", "CREATE INDEX pingly_checks_monitor ON pingly_checks (monitor_id, id)")
        .add_per_backend(
            // Each plan change the vendor judged, with when it started and ended: shown on the
            // dashboard, and what shows that a monitor is never created during one.
            "plan changes",
            "CREATE TABLE pingly_plan_changes (id INTEGER PRIMARY KEY AUTOINCREMENT, \
             resource_uuid TEXT NOT NULL, from_plan TEXT NOT NULL, to_plan TEXT NOT NULL, \
             accepted BIGINT NOT NULL, started BIGINT NOT NULL, finished BIGINT NOT NULL)",
            "CREATE TABLE pingly_plan_changes (id BIGSERIAL PRIMARY KEY, \
             resource_uuid TEXT NOT NULL, from_plan TEXT NOT NULL, to_plan TEXT NOT NULL, \
             accepted BIGINT NOT NULL, started BIGINT NOT NULL, finished BIGINT NOT NULL)",
        )
}
