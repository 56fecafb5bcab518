//! The cohsh command language and .coh regression scripts, parsed and translated without I/O.
