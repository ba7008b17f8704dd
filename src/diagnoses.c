/* The diagnosis table: every finding id espdoctor can report, with its meaning and the
 * generic fix. Findings carry a specific fix (the user's group, the PID, the module).
 * Catalogue: ../shared/notes/linux-serial-failures.md. */
#include "espdoctor/findings.h"

const struct ed_diagnosis ed_diagnoses[] = {
    /* Presence */
    { "device.none", ED_SEV_ERROR, "Presence", "No USB serial bridge is connected",
      "No USB device of a known bridge maker is present: the cable may be charge-only, "
      "the board unpowered, or a hub not passing data.",
      "Use a data-capable USB cable, another USB port, and check the board's power LED." },
    { "device.nothing-appeared", ED_SEV_ERROR, "Presence", "Nothing appeared on USB",
      "espdoctor watched for the board to be plugged in and no USB device of a known "
      "bridge appeared at all: the cable is most likely charge-only (it has no data "
      "wires), or the USB port, the hub or the board is dead.",
      "Plug the board in with a cable known to carry data (one that has worked for file "
      "transfer), try another USB port on the computer itself (not a hub), and check "
      "the board's power LED." },
    { "device.found", ED_SEV_OK, "Presence", "USB serial bridge present",
      "A known USB-UART bridge (or the chip's own USB) is connected.", NULL },
    { "device.no-tty", ED_SEV_WARN, "Presence", "The bridge has no serial port",
      "The USB device is there but no /dev/tty node was created for it.",
      "See the driver findings for why; replugging after the fix creates the port." },
    { "device.several", ED_SEV_WARN, "Presence", "Several boards are connected",
      "More than one ESP bridge is plugged in; the live checks need to know which one.",
      "Name the board to examine with -p PORT (or set ESPDOCTOR_PORT)." },
    { "device.unknown-port", ED_SEV_WARN, "Presence", "Not a known ESP bridge",
      "The port given is not behind a USB bridge espdoctor knows. When nothing answers on "
      "it as an ESP bootloader either, this is the problem: it is most likely not the "
      "board's port (a built-in serial port, another device), and the finding is an error.",
      "List the USB serial ports with 'espdoctor list' and name the board's with -p." },
    /* Driver */
    { "driver.ok", ED_SEV_OK, "Driver", "Kernel driver bound", "The expected driver serves the bridge.", NULL },
    { "driver.missing", ED_SEV_ERROR, "Driver", "The kernel driver is missing",
      "No driver is bound to the bridge's interface and the running kernel has no module "
      "for its USB id.",
      "Load the module (sudo modprobe cp210x / ch341 / ftdi_sio / pl2303 / cdc_acm); if the "
      "kernel has none, install the package that carries its modules (Ubuntu: "
      "linux-modules-extra-RELEASE; Debian: linux-image-RELEASE; Fedora: "
      "kernel-modules-extra)." },
    { "driver.not-loaded", ED_SEV_ERROR, "Driver", "The kernel driver is not loaded",
      "The kernel has a module for the bridge but it is not bound to it.",
      "Load the module (sudo modprobe MODULE), then replug the board." },
    { "driver.claimed-by-userspace", ED_SEV_ERROR, "Driver", "A program took the USB device",
      "The bridge's interface is bound to usbfs: a user-space program (often brltty) claimed "
      "it, so the kernel serial driver cannot create a port.",
      "Stop the program named in the evidence; for brltty: sudo apt remove brltty (or sudo "
      "systemctl mask brltty-udev.service), then replug." },
    { "driver.wrong", ED_SEV_WARN, "Driver", "An unexpected driver is bound",
      "The bridge is served by another driver than the usual one.",
      "If resetting into the bootloader fails, give the device to the usual driver; a "
      "vendor driver that claims it again at every plug-in is blacklisted first." },
    { "bridge.counterfeit", ED_SEV_WARN, "Driver", "The bridge answers as a counterfeit CP2102",
      "Asked its part number with room for two bytes, the bridge answered one: a genuine "
      "CP2102 answers two (Linux's cp210x driver flags such parts \"possibly "
      "counterfeit\"). Clones work at 115200 but often fail at higher rates or lose "
      "bytes.",
      "If flashing fails or garbles, flash at a lower speed (-b 115200), or use a board or "
      "USB-UART adapter with a genuine bridge." },
    /* Interference */
    { "interference.brltty", ED_SEV_ERROR, "Interference", "brltty claims this bridge",
      "The braille display daemon brltty is installed and its udev rules match this USB id; "
      "it grabs the device as soon as it is plugged in.",
      "Remove brltty (sudo apt remove brltty), or mask it (sudo systemctl mask "
      "brltty-udev.service brltty.service)." },
    { "interference.brltty-running", ED_SEV_INFO, "Interference", "brltty is running",
      "The braille display daemon brltty runs; none of its udev rules names this bridge, but "
      "it can still take a serial port it is configured for.",
      "If no braille display is used, mask it: sudo systemctl mask --now brltty.service "
      "brltty-udev.service." },
    { "interference.modemmanager", ED_SEV_WARN, "Interference", "ModemManager may probe the port",
      "ModemManager is running and the device is not marked ID_MM_DEVICE_IGNORE: it sends AT "
      "commands to new ports, which garbles the first seconds of a connection.",
      "Install espdoctor's udev rules (sudo espdoctor udev install): they mark ESP bridges "
      "ID_MM_DEVICE_IGNORE." },
    /* Permissions */
    { "perm.ok", ED_SEV_OK, "Permissions", "You may open the port", "Mode, group and ACL allow read and write.", NULL },
    { "perm.not-in-group", ED_SEV_ERROR, "Permissions", "You are not in the port's group",
      "The port is readable and writable by its group only, and your account is not in it.",
      "Add yourself to the group (sudo usermod -aG GROUP $USER) and log in again, or install "
      "espdoctor's udev rules (sudo espdoctor udev install)." },
    { "perm.relogin-needed", ED_SEV_ERROR, "Permissions", "Log in again to use your new group",
      "Your account is in the port's group, but this login session started before it was added.",
      "Log out and back in (or run: newgrp GROUP). No need to add the group again." },
    { "perm.sandboxed", ED_SEV_ERROR, "Permissions", "Running inside a sandbox",
      "The port's group shows as nobody/nogroup: this program runs in a Flatpak or Snap "
      "sandbox that hides the host's groups.",
      "Give the sandboxed app serial access (e.g. flatpak override --device=all APP) or run "
      "espdoctor outside it." },
    { "perm.root", ED_SEV_INFO, "Permissions", "Running as root",
      "Root can open any port, so permission problems of normal users are not visible.",
      "Run espdoctor as your normal user to check that user's access." },
    { "perm.denied", ED_SEV_ERROR, "Permissions", "Permission denied",
      "Opening the port failed with EACCES.",
      "Install espdoctor's udev rules (sudo espdoctor udev install)." },
    /* Locks */
    { "lock.busy", ED_SEV_ERROR, "Locks", "Another program has the port open exclusively",
      "Opening the port failed with EBUSY (another program set TIOCEXCL on it) or its flock "
      "is held (another espdoctor or monitor: a port serves one program at a time).",
      "Close that program (serial monitor, screen, minicom, Arduino IDE), or let the other "
      "espdoctor finish, or end it (kill PID)." },
    { "lock.flock", ED_SEV_ERROR, "Locks", "Another program holds a lock on the port",
      "/proc/locks shows a lock on the port's device node held by another process.",
      "Close that program, or end it (kill PID)." },
    { "lock.open-by", ED_SEV_WARN, "Locks", "Another program has the port open",
      "Another process has the port open; two programs reading one port both get garbage.",
      "Close that program, or end it (kill PID)." },
    { "lock.uucp", ED_SEV_ERROR, "Locks", "A UUCP lock file claims the port",
      "A live process holds /var/lock/LCK..PORT.",
      "Close that program, or end it (kill PID)." },
    { "lock.uucp-stale", ED_SEV_WARN, "Locks", "A stale UUCP lock file",
      "A lock file names a process that no longer exists; some programs refuse the port.",
      "Remove the lock file (sudo rm /var/lock/LCK..PORT)." },
    /* Power */
    { "power.autosuspend", ED_SEV_WARN, "Power", "USB autosuspend is on for the bridge",
      "The kernel may suspend the bridge when idle (power/control = auto), which drops "
      "characters and resets some bridges.",
      "Keep the bridge powered: echo on | sudo tee /sys/bus/usb/devices/DEV/power/control." },
    /* Line and boot log */
    { "line.held-in-reset", ED_SEV_ERROR, "Line", "The port holds the chip in reset",
      "After opening the port the chip prints nothing until RTS is released.",
      "Release RTS after opening (stty -F PORT -hupcl); in serial monitors, turn off RTS." },
    { "boot.brownout", ED_SEV_ERROR, "Boot log", "The chip browns out",
      "\"Brownout detector was triggered\": the supply voltage sags when the chip starts.",
      "Use a shorter or better USB cable, a powered hub, or a stronger 3.3 V supply." },
    { "boot.wrong-baud", ED_SEV_WARN, "Boot log", "Output only at another baud rate",
      "Bytes arrive but do not decode at the expected baud.",
      "Read the log at 74880 (ESP8266) or 115200 (ESP32); sync at 115200." },
    { "boot.crash-loop", ED_SEV_ERROR, "Boot log", "The firmware crashes and reboots",
      "The boot log repeats resets: \"invalid header\" with something other than erased "
      "flash at the boot offset, a Guru Meditation error, or a watchdog reset loop.",
      "Flash firmware built for this chip (espdoctor flash FILE)." },
    { "firmware.blank", ED_SEV_ERROR, "Boot log", "The flash holds no firmware",
      "The ROM finds erased flash (\"invalid header: 0xffffffff\") where the bootloader "
      "belongs and starts over, again and again: the board was erased or never flashed. "
      "Nothing is broken.",
      "Download firmware for the chip (MicroPython: micropython.org/download) and flash it "
      "(espdoctor flash FILE)." },
    { "boot.strapping", ED_SEV_WARN, "Boot log", "A strapping pin is in the wrong state",
      "The boot banner shows a strapping pin at a level that changes how the chip boots. "
      "ESP32: GPIO12 (MTDI) high selects 1.8 V for the flash, and a 3.3 V flash chip then "
      "fails (\"flash read err, 1000\", boot:0x33 or 0x37). ESP8266: GPIO15 (MTDO) high, "
      "\"boot mode:(7,x)\" or (5,x), selects SDIO boot: neither the firmware nor the "
      "serial bootloader runs. An error when it keeps the chip from booting.",
      "Remove what drives the pin at reset or pull it low (10 kOhm to GND). ESP32 with "
      "3.3 V flash whose GPIO12 must stay wired: burn the flash-voltage eFuse once "
      "(espefuse.py --port PORT set_flash_voltage 3.3V; it cannot be undone)." },
    { "boot.silent", ED_SEV_WARN, "Boot log", "The chip printed nothing after reset",
      "No byte arrived after a reset at any of the usual baud rates.",
      "Check that the board is powered and that TX/RX are wired (RX to TX)." },
    /* Bootloader */
    { "bootloader.ok", ED_SEV_OK, "Bootloader", "The ROM bootloader answers",
      "A reset sequence put the chip into download mode and it synced.", NULL },
    { "reset.no-autoreset", ED_SEV_ERROR, "Bootloader", "The auto-reset does not reach download mode",
      "Every DTR/RTS reset sequence either did not reset the chip or let it boot normally "
      "(GPIO0 high): the board has no auto-reset circuit, or it is not wired to DTR/RTS.",
      "Hold BOOT (IO0), tap EN (RST), release BOOT, then run the command again." },
    { "reset.slow-en", ED_SEV_WARN, "Bootloader", "The board needs the long reset delay",
      "Only the long (550 ms) reset delay reaches download mode: the EN capacitor is large.",
      "Nothing to do: espdoctor uses the long delay for this board." },
    { "bootloader.unreached", ED_SEV_ERROR, "Bootloader", "The ROM bootloader did not answer",
      "No reset sequence brought the chip into download mode; the findings above say what "
      "the board did instead.",
      "Hold BOOT (IO0), tap EN (RST), release BOOT, then run the command again." },
    { "bootloader.no-sync", ED_SEV_ERROR, "Bootloader", "Download mode, but no answer to SYNC",
      "The chip printed the download banner but did not answer the sync packets.",
      "Check the TX/RX wiring, lower the baud, and try another cable." },
    /* Firmware */
    { "flash.no-answer", ED_SEV_ERROR, "Bootloader", "The flash chip does not answer",
      "The ROM loader answers, but the SPI flash chip behind it does not: its JEDEC id "
      "reads 0xffffff (or 0), as when nothing drives the data line. The chip cannot boot "
      "(\"flash read err\") and nothing written to it would stay. Causes: GPIO12 high on an "
      "ESP32 with 3.3 V flash (see boot.strapping), a flash chip without power or not "
      "soldered, or the flash pins (GPIO6 to GPIO11 on the ESP32) wired to something else.",
      "Fix the strapping pin if boot.strapping names one; otherwise free the flash pins, "
      "or replace the module: espdoctor refuses to flash, erase or read until it answers." },
    { "flash.fake-size", ED_SEV_WARN, "Bootloader", "The flash chip is smaller than it claims",
      "The flash chip's JEDEC id claims more than its array holds (a counterfeit part): "
      "what is read past its real size repeats address 0, and what is written there "
      "overwrites the start of the flash, the bootloader included. Found read-only, by "
      "the MD5 of the first 32 KiB repeating at a power of two below the claimed size.",
      "Use firmware, partition tables and file systems for the real size the evidence "
      "names; espdoctor refuses to write past it." },
    { "security.secure-download", ED_SEV_WARN, "Bootloader", "The ROM is in Secure Download Mode",
      "An eFuse put the ROM loader in Secure Download Mode: it writes flash, but refuses "
      "reading it back, register reads and writes and RAM (so no flasher stub runs). "
      "esptool refuses the same operations; the mode cannot be turned off.",
      "Flash as usual (espdoctor uses the ROM loader, more slowly); read the flash or the "
      "eFuses through the firmware instead." },
    { "security.flash-encrypted", ED_SEV_WARN, "Bootloader", "Flash encryption is on",
      "The flash crypt counter eFuse has an odd number of bits set: the chip decrypts "
      "what it reads from flash, so an image written in the clear (a MicroPython "
      "download) does not boot (\"invalid header\"), and the flash reads back as "
      "ciphertext.",
      "Write images encrypted for this chip (ESP-IDF: idf.py encrypted-flash; development "
      "mode: esptool write_flash --encrypt)." },
    { "firmware.micropython", ED_SEV_OK, "Firmware", "MicroPython is answering",
      "The board runs MicroPython and its REPL answered.", NULL },
    { "firmware.none", ED_SEV_WARN, "Firmware", "No MicroPython on the board",
      "The board resets and boots, but no MicroPython banner or >>> prompt answered Ctrl-C. "
      "This is the usual meaning of uPyCraft's \"open serial error\".",
      "Download MicroPython for the chip from micropython.org/download and flash it "
      "(espdoctor flash FILE)." },
    { "firmware.micropython-busy", ED_SEV_WARN, "Firmware", "MicroPython is busy",
      "MicroPython started, but its REPL did not answer Ctrl-C: a program (boot.py or "
      "main.py) holds the console or has crashed it.",
      "Open the console (screen PORT 115200) and press Ctrl-C; if it never answers, flash "
      "it again (espdoctor flash FILE)." },
    /* Port */
    { "port.vanished", ED_SEV_ERROR, "Port", "The port disappeared",
      "The serial port went away while in use (unplugged, or a native-USB chip reset).",
      "Plug the board back in; for native USB, enter download mode by hand." },
    { "port.reset-loop", ED_SEV_ERROR, "Port", "The board's USB port keeps vanishing",
      "No port is there to examine, but an Espressif USB device (the chip's own USB) came "
      "and went while the doctor watched: the port leaves the bus whenever the chip "
      "resets, and its firmware resets in a loop. Not an unplugged cable.",
      "Hold BOOT, tap RST (EN), release BOOT: the ROM's download port stays, and flash "
      "or erase works from there." },
    { "port.not-serial", ED_SEV_ERROR, "Port", "Not a serial port",
      "The path given is not a serial device.", "Pick a port from 'espdoctor list'." },
    { "port.unusable", ED_SEV_ERROR, "Port", "The port cannot be used",
      "The port exists but could not be opened: permission denied, or another program "
      "holds it.",
      "Run the doctor on it (espdoctor -p PORT): it names the cause and its fix." },
    /* A command's error object (--json "error.id"), when no finding says more. */
    { "usage.invalid", ED_SEV_ERROR, "Errors", "Wrong options or arguments",
      "The command line asks for something the command does not take, or a value that "
      "cannot be right; nothing was done.",
      "Correct the command line as the message says (espdoctor --help lists it all)." },
    { "run.failed", ED_SEV_ERROR, "Errors", "The command failed",
      "The operation did not complete; the message says where and why.",
      "Act on the message, then run the command again." },
    { "run.refused", ED_SEV_ERROR, "Errors", "A safety check refused",
      "A check refused the change before anything was written, erased or changed.",
      "Act on the message; see Before flashing for the checks of flash." },
    { "chip.mismatch", ED_SEV_ERROR, "Errors", "Not the chip --chip names",
      "The board that answered is another chip than the one --chip asks for; nothing was "
      "written, erased or read, and the board was reset into its firmware.",
      "Name the right board with -p, or give --chip with the chip the message names (or "
      "--chip auto)." },
    { "bootloader.not-waiting", ED_SEV_ERROR, "Errors", "The board is not in its bootloader",
      "Nothing reset the board (--before no-reset, or a port without DTR/RTS such as "
      "socket:// or the chip's own USB-OTG) and nothing answered SYNC: it runs its "
      "firmware, or it is held in reset.",
      "Hold the BOOT (IO0) button, tap EN (RST), release BOOT, then run the command again; "
      "or leave --before out to let espdoctor reset it." },
    { "run.interrupted", ED_SEV_ERROR, "Errors", "Interrupted by a signal",
      "SIGINT (Ctrl-C) or SIGTERM stopped the command. The message says what had been "
      "done, what the flash holds now and the command that finishes the job (exit status "
      "130 or 143).",
      "Run the command the message gives: what already verifies is not written again." },
    { "doctor.problem", ED_SEV_ERROR, "Errors", "The doctor found a problem",
      "The doctor's checks found a problem; its findings say which.",
      "Fix the first problem the doctor names, then run it again." },
    { "input.unusable", ED_SEV_ERROR, "Errors", "An input file cannot be used",
      "A file to write is missing, unreadable or not firmware, or a file to create cannot "
      "be created.",
      "Check the file name and its permissions; for firmware, download it again." },
    { "input.changed", ED_SEV_ERROR, "Errors", "The file changed during the flash",
      "The firmware file's size or contents changed between the checks and the end of the "
      "write (a build or a download still writing it): what went to the board is not what "
      "the file holds now. The board is not at fault.",
      "Wait until the file is complete, then flash it again." },
    { "stub.upload-failed", ED_SEV_ERROR, "Errors", "The flasher stub did not start",
      "Uploading the flasher stub to the chip's RAM, or starting it, failed; nothing was "
      "written to flash.",
      "Run the command again, or use the ROM loader with --no-stub." },
    { "stub.unusable", ED_SEV_ERROR, "Errors", "The flasher stub given cannot be used",
      "The stub named with --stub is missing, unreadable or not a stub for this chip.",
      "Name esptool-js's stub_flasher directory with --stub, or leave --stub out." },
    { "flash.write-failed", ED_SEV_ERROR, "Errors", "Writing the flash failed",
      "The loader refused or lost a write; the message says how far it got.",
      "Run the same command again: only what does not verify is rewritten." },
    { "flash.verify-failed", ED_SEV_ERROR, "Errors", "The flash does not verify",
      "The flash's MD5 differs from the file's after writing, and again after rewriting: "
      "the flash chip may be failing.",
      "Run the command again; if it fails the same way, the board's flash is faulty." },
    { "flash.erase-failed", ED_SEV_ERROR, "Errors", "Erasing the flash failed",
      "The loader refused or lost the erase.",
      "Run the command again; with the ROM loader, give it time (up to 40 s per MB)." },
    { "flash.refused", ED_SEV_ERROR, "Errors", "The write was refused",
      "A check before flashing refused the files; nothing was written.",
      "See the problems listed; --force overrides those that allow it." },
    /* Flash: what a write would erase (the flasher's plan, src/flash_plan.c) */
    { "flash.erase-spill", ED_SEV_ERROR, "Flash", "The write would erase flash not asked for",
      "Without the flasher stub the ESP8266 ROM erases by a rule of its own and cannot erase "
      "one 4 KiB sector alone: writing a file that fills one sector would also erase the "
      "sector after it, which no file given covers. The write is refused; nothing is "
      "written.",
      "Use the flasher stub, which erases exactly (drop --no-stub, or give --stub), or "
      "also write the sector after the file." },
    { "flash.erase-overlap", ED_SEV_ERROR, "Flash", "One file's erase would destroy another",
      "Without the flasher stub the ESP8266 ROM would erase, for one file, the first sector "
      "of a file written before it. The write is refused; nothing is written.",
      "Give the files in address order (the later file then rewrites that sector), or use "
      "the flasher stub, which erases exactly." },
};

const size_t ed_diagnosis_count = sizeof ed_diagnoses / sizeof ed_diagnoses[0];
