//! The descriptor declares exactly the settings the configuration code reads.

#[test]
fn the_descriptor_declares_every_setting_read() {
    butterfly_testkit::assert_settings_declared(
        &butterfly_entra::DESCRIPTOR,
        include_str!("../src/config.rs"),
    );
}

#[test]
fn the_kind_table_is_consistent() {
    use butterfly_entra::kinds::{ROWS, Write};
    butterfly_testkit::assert_kind_table_consistent("entra", butterfly_entra::kinds::all(), |id| {
        ROWS.iter()
            .any(|r| r.spec.id == id && !matches!(r.write, Write::None))
    });
}

#[test]
fn the_listing_columns_are_consistent() {
    butterfly_testkit::assert_list_specs_consistent("entra", butterfly_entra::kinds::TABLE);
}
