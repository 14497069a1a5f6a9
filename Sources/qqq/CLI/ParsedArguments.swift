/// A command-line mistake: reported with the usage line and exit code 64 (EX_USAGE).
struct UsageError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// The user asked for help (`-h`, `--help`): print the command's help and exit 0.
struct HelpRequested: Error {}

/// Arguments parsed against a `CommandSpec`, with typed accessors that raise `UsageError`.
struct ParsedArguments {
    let spec: CommandSpec
    private(set) var positionals: [String] = []
    private var values: [String: [String]] = [:]
    private var flags: Set<String> = []

    init(spec: CommandSpec, arguments: [String]) throws {
        self.spec = spec
        var index = 0
        var onlyPositionals = false
        while index < arguments.count {
            let arg = arguments[index]
            index += 1
            if onlyPositionals || !arg.hasPrefix("-") || arg == "-" {
                positionals.append(arg)
                continue
            }
            if arg == "--" { onlyPositionals = true; continue }
            if arg == "-h" || arg == "--help" { throw HelpRequested() }
            var name: String
            var inlineValue: String?
            if arg.hasPrefix("--") {
                name = String(arg.dropFirst(2))
                if let eq = name.firstIndex(of: "=") {
                    inlineValue = String(name[name.index(after: eq)...])
                    name = String(name[..<eq])
                }
            } else {
                let short = arg.dropFirst()
                guard short.count == 1, let option = spec.options.first(where: { $0.short == short.first }) else {
                    throw UsageError(message: "unknown option '\(arg)'")
                }
                name = option.name
            }
            guard let option = spec.options.first(where: { $0.name == name }) else {
                throw UsageError(message: "unknown option '--\(name)'")
            }
            if option.isFlag {
                if inlineValue != nil { throw UsageError(message: "flag '--\(name)' takes no value") }
                flags.insert(name)
                continue
            }
            let value: String
            if let inlineValue {
                value = inlineValue
            } else {
                guard index < arguments.count else {
                    throw UsageError(message: "missing value for '--\(name)'")
                }
                value = arguments[index]
                index += 1
            }
            if !option.repeatable, values[name] != nil {
                throw UsageError(message: "option '--\(name)' given more than once")
            }
            values[name, default: []].append(value)
        }
        let required = spec.arguments.filter { !$0.optional }.count
        if positionals.count < required {
            let missing = spec.arguments[positionals.count]
            throw UsageError(message: "missing argument <\(missing.name)>")
        }
        if positionals.count > spec.arguments.count {
            throw UsageError(message: "unexpected argument '\(positionals[spec.arguments.count])'")
        }
    }

    func flag(_ name: String) -> Bool { flags.contains(name) }

    func string(_ name: String) -> String? { values[name]?.last }

    func strings(_ name: String) -> [String] { values[name] ?? [] }

    func positional(_ index: Int) -> String? { index < positionals.count ? positionals[index] : nil }

    func int(_ name: String, range: ClosedRange<Int>? = nil) throws -> Int? {
        guard let text = string(name) else { return nil }
        guard let value = Int(text) else {
            throw UsageError(message: "'--\(name)' expects an integer, got '\(text)'")
        }
        if let range, !range.contains(value) {
            throw UsageError(message: "'--\(name)' must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
        }
        return value
    }

    func double(_ name: String) throws -> Double? {
        guard let text = string(name) else { return nil }
        guard let value = Double(text), value.isFinite else {
            throw UsageError(message: "'--\(name)' expects a number, got '\(text)'")
        }
        return value
    }

    /// A comma-separated list of positive integers, e.g. `--m 1,16,64`.
    func intList(_ name: String, range: ClosedRange<Int> = 1...1_000_000) throws -> [Int]? {
        let raw = strings(name)
        guard !raw.isEmpty else { return nil }
        var out: [Int] = []
        for part in raw.flatMap({ $0.split(separator: ",") }) {
            guard let value = Int(part.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
                throw UsageError(message: "'--\(name)' expects integers in \(range.lowerBound)...\(range.upperBound) separated by commas, got '\(part)'")
            }
            out.append(value)
        }
        return out
    }

    /// One of a fixed set of words.
    func choice(_ name: String, _ allowed: [String]) throws -> String? {
        guard let text = string(name) else { return nil }
        guard allowed.contains(text) else {
            throw UsageError(message: "'--\(name)' must be one of \(allowed.joined(separator: ", ")), got '\(text)'")
        }
        return text
    }
}

import Foundation
