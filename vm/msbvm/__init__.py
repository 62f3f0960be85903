# SPDX-License-Identifier: GPL-2.0-only
"""msealbench vm's parts; vm/msealbench-vm and vm/msealbench-lava are the commands on top.

  paths      where the source tree or the installation keeps plots/msb
  common     the command's name, errors, architectures, children and files (msb.cli)
  image      kernel images, ELF reading, the static suite and its dynamic runtime
  initramfs  the newc cpio and the plan /init follows
  boot       qemu, the serial console and its framed file transfer, the KVM check
  merge      the boots of one kernel merged into one results file
  command    what both commands share: option types, forwarded options, kernels, comparison
  lavaimage  msealbench lava's ramdisk (busybox-static) and qemu device (lava-server's templates)
  lavajob    LAVA jobs: rendered, run with lava-run or lavacli, their logs read and checked
"""
