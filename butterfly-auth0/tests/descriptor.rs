//! The descriptor declares exactly the settings the configuration code reads.

#[test]
fn the_descriptor_declares_every_setting_read() {
    butterfly_testkit::assert_settings_declared(
        &butterfly_auth0::DESCRIPTOR,
        include_str!("../src/config.rs"),
    );
}
