import Foundation

// The only place errors become exit codes (see ExitStatus.swift).
exit(ExitStatus.run(Winnow.self, arguments: Array(CommandLine.arguments.dropFirst())))
