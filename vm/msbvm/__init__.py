"""msealbench vm's parts; vm/msealbench-vm is the command on top.

  paths      where the source tree or the installation keeps plots/msb
  common     the command's name, errors, architectures, children and files (msb.cli)
  image      kernel images, ELF reading, the static suite and its dynamic runtime
  initramfs  the newc cpio and the plan /init follows
  boot       qemu, the serial console and its framed file transfer, the KVM check
  merge      the boots of one kernel merged into one results file
"""
