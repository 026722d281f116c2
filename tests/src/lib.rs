#![doc = include_str!("../README.md")]

pub mod chromium;
pub mod console_urls;
pub mod consoled;
pub mod demo;
pub mod libvirt;
pub mod net;
pub mod novnc_page;
pub mod qemu;
pub mod screens;
pub mod seabios;
pub mod stack;
pub mod tools;
pub mod vnc;
pub mod ws;
pub mod ws_text;
