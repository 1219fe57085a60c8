//! Loading a site as Gluon does: Lua configuration files, site.mk, image
//! customisation, package selection and the domain merge.

pub mod codes;
pub mod config;
pub mod confine;
pub mod image_customization;
pub mod inventory;
pub mod load;
pub mod locate;
pub mod lua;
pub mod lua_lex;
pub mod merge;
pub mod mesh_vpn;
pub mod packages;
pub mod process;
pub mod site_mk;
pub mod spans;
pub mod target_rounds;
pub mod value;
pub mod views;
