package output

// sysRenameat2 is renameat2(2); Go's syscall package predates it.
const sysRenameat2 = 276
