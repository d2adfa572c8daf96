//! The descriptor declares exactly the settings the configuration code reads, and the kind
//! table is consistent.

#[test]
fn the_descriptor_declares_every_setting_read() {
    butterfly_testkit::assert_settings_declared(
        &butterfly_ping::DESCRIPTOR,
        include_str!("../src/config.rs"),
    );
}

#[test]
fn the_kind_table_is_consistent() {
    use butterfly_ping::kinds::{ROWS, Write};
    butterfly_testkit::assert_kind_table_consistent("ping", butterfly_ping::kinds::all(), |id| {
        ROWS.iter()
            .any(|r| r.spec.id == id && !matches!(r.write, Write::None))
    });
}

#[test]
fn the_listing_columns_are_consistent() {
    butterfly_testkit::assert_list_specs_consistent("ping", butterfly_ping::kinds::TABLE);
}
