import Foundation
import Testing

@Suite("CLI usage and help")
struct CLIUsageTests {
    @Test func rootHelpListsSubcommands() throws {
        let r = try CLIRunner.run(["--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("USAGE: qqq <subcommand>"))
        #expect(r.stdout.contains("eval"))
    }

    @Test func versionPrints() throws {
        let r = try CLIRunner.run(["--version"])
        #expect(r.status == 0)
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3)
    }

    @Test func evalHelpShowsOptionsAndDefaults() throws {
        let r = try CLIRunner.run(["eval", "--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("USAGE: qqq eval <model-dir>"))
        #expect(r.stdout.contains("--seqlen <n>"))
        #expect(r.stdout.contains("(default: 2048)"))
        let viaHelp = try CLIRunner.run(["help", "eval"])
        #expect(viaHelp.stdout == r.stdout)
    }

    @Test(arguments: [
        (["frobnicate"], "unknown subcommand"),
        (["eval"], "missing argument <model-dir>"),
        (["eval", "m", "--bogus"], "unknown option '--bogus'"),
        (["eval", "m", "--text"], "missing value for '--text'"),
        (["eval", "m", "--text", "t", "--seqlen", "abc"], "expects an integer"),
        (["eval", "m", "--text", "t", "--seqlen", "1"], "must be in"),
        (["eval", "m", "--text", "t", "--threads", "0"], "must be in"),
        (["eval", "m"], "missing '--text <file>'"),
        (["eval", "m", "extra", "--text", "t"], "unexpected argument 'extra'"),
    ])
    func badFlagsExit64(arguments: [String], message: String) throws {
        let r = try CLIRunner.run(arguments)
        #expect(r.status == 64, "\(arguments) exited \(r.status): \(r.stderr)")
        #expect(r.stderr.contains("Error: "))
        #expect(r.stderr.contains(message), "stderr was: \(r.stderr)")
        #expect(r.stdout.isEmpty)
    }
}
