import Foundation
import QQQCore

// Results go to stdout, progress and errors to stderr; the exit code says which happened.
setvbuf(stdout, nil, _IOLBF, 0)
InterruptCleanup.installSignalHandlers()
exit(QQQCommandLine.main(Array(CommandLine.arguments.dropFirst())))
