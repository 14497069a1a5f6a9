// A small argument parser in the manner of swift-argument-parser (which the project may not depend
// on): declarative specs, `--opt value` and `--opt=value`, flags, `--` to end options, generated help.

/// One option or flag of a command.
struct OptionSpec {
    /// Long name without dashes, e.g. "seqlen".
    let name: String
    /// Optional one-letter short name, e.g. "o".
    var short: Character? = nil
    /// Placeholder shown in help (e.g. "N"); nil for a flag that takes no value.
    var valueName: String? = nil
    let help: String
    /// Default shown in help (the command applies it).
    var defaultValue: String? = nil
    /// An option that may be given several times (values accumulate).
    var repeatable: Bool = false

    var isFlag: Bool { valueName == nil }
}

/// A positional argument.
struct ArgumentSpec {
    let name: String
    let help: String
    var optional: Bool = false
}

/// A (sub)command: what its help prints and what its parser accepts.
struct CommandSpec {
    let name: String
    let overview: String
    var arguments: [ArgumentSpec] = []
    var options: [OptionSpec] = []
    var discussion: String? = nil

    /// The one-line usage, e.g. "qqq eval <model-dir> --text <file> [options]".
    var usage: String {
        var parts = ["qqq", name]
        for arg in arguments { parts.append(arg.optional ? "[<\(arg.name)>]" : "<\(arg.name)>") }
        if !options.isEmpty { parts.append("[options]") }
        return parts.joined(separator: " ")
    }

    /// Full help text in the layout swift-argument-parser users recognise.
    var helpText: String {
        var out = "OVERVIEW: \(overview)\n\nUSAGE: \(usage)\n"
        if !arguments.isEmpty {
            out += "\nARGUMENTS:\n"
            for arg in arguments { out += Self.row("<\(arg.name)>", arg.help) }
        }
        out += "\nOPTIONS:\n"
        for opt in options + [OptionSpec(name: "help", short: "h", help: "Show help information.")] {
            var left = opt.short.map { "-\($0), " } ?? ""
            left += "--\(opt.name)"
            if let value = opt.valueName { left += " <\(value)>" }
            var help = opt.help
            if let def = opt.defaultValue { help += " (default: \(def))" }
            if opt.repeatable { help += " (repeatable)" }
            out += Self.row(left, help)
        }
        if let discussion { out += "\n\(discussion)\n" }
        return out
    }

    private static func row(_ left: String, _ right: String) -> String {
        let pad = 26
        let lead = "  " + left
        if lead.count + 2 <= pad {
            return lead + String(repeating: " ", count: pad - lead.count) + right + "\n"
        }
        return lead + "\n" + String(repeating: " ", count: pad) + right + "\n"
    }
}
