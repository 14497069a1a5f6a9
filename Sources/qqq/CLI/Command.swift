import Foundation
import QQQCore

/// A subcommand: its spec (for parsing and help) and what it does with parsed arguments.
protocol Command {
    static var spec: CommandSpec { get }
    static func run(_ args: ParsedArguments) throws
}

/// Exit codes (sysexits where one fits).
enum ExitCode {
    static let success: Int32 = 0
    static let failure: Int32 = 1
    static let usage: Int32 = 64
}

enum QQQCommandLine {
    static let version = "0.1.0"

    static let commands: [Command.Type] = [QuantizeCommand.self, EvalCommand.self, BenchCommand.self, ExportCommand.self]

    static var rootHelp: String {
        var out = """
        OVERVIEW: W4A8 (QQQ) quantization and CPU inference for LLaMA-family models.

        USAGE: qqq <subcommand> [options]

        OPTIONS:
          --version               Show the version.
          -h, --help              Show help information.

        SUBCOMMANDS:

        """
        for command in commands {
            let name = command.spec.name
            out += "  " + name + String(repeating: " ", count: max(2, 24 - name.count)) + command.spec.overview + "\n"
        }
        out += "\n  See 'qqq help <subcommand>' for detailed help.\n"
        return out
    }

    /// Runs the command line and returns the process exit code.
    static func main(_ argv: [String]) -> Int32 {
        guard let first = argv.first else {
            Diagnostics.write(rootHelp)
            return ExitCode.usage
        }
        switch first {
        case "-h", "--help":
            print(rootHelp, terminator: "")
            return ExitCode.success
        case "--version":
            print(version)
            return ExitCode.success
        case "help":
            guard argv.count > 1 else { print(rootHelp, terminator: ""); return ExitCode.success }
            guard let command = commands.first(where: { $0.spec.name == argv[1] }) else {
                Diagnostics.error("unknown subcommand '\(argv[1])'")
                Diagnostics.write("See 'qqq --help'.\n")
                return ExitCode.usage
            }
            print(command.spec.helpText, terminator: "")
            return ExitCode.success
        default:
            break
        }
        guard let command = commands.first(where: { $0.spec.name == first }) else {
            Diagnostics.error("unknown subcommand '\(first)'")
            Diagnostics.write("USAGE: qqq <subcommand> [options]\nSee 'qqq --help'.\n")
            return ExitCode.usage
        }
        let spec = command.spec
        do {
            let parsed = try ParsedArguments(spec: spec, arguments: Array(argv.dropFirst()))
            try command.run(parsed)
            return ExitCode.success
        } catch is HelpRequested {
            print(spec.helpText, terminator: "")
            return ExitCode.success
        } catch let error as UsageError {
            Diagnostics.error(error.message)
            Diagnostics.write("USAGE: \(spec.usage)\nSee 'qqq \(spec.name) --help'.\n")
            return ExitCode.usage
        } catch let error as QQQError {
            Diagnostics.error(error.description)
            return ExitCode.failure
        } catch {
            Diagnostics.error("\(error)")
            return ExitCode.failure
        }
    }
}
