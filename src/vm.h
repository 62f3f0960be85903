#ifndef MSB_VM_H
#define MSB_VM_H

/* msealbench vm ...: exec the script that boots kernels and runs the suite inside. */
int vm_main(int argc, char **argv, const char *self_exe);

#endif
