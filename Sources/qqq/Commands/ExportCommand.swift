import Foundation
import QQQCore

/// `qqq export --format vllm`: a qqq checkpoint in the layout QQQ's reference code and vLLM load.
enum ExportCommand: Command {
    static let spec = CommandSpec(
        name: "export",
        overview: "Convert a qqq W4A8 checkpoint for serving elsewhere (vLLM / QQQ reference format).",
        arguments: [ArgumentSpec(name: "model-dir", help: "A folder written by qqq quantize.")],
        options: [
            OptionSpec(name: "output", short: "o", valueName: "dir", help: "Output folder."),
            OptionSpec(name: "format", valueName: "name", help: "Target format (vllm: B/s_channel/s_group, Marlin tile order).", defaultValue: "vllm"),
            OptionSpec(name: "force", help: "Replace the output folder if it exists."),
        ],
        discussion: "The vLLM format needs in_features % 128 == 0 and out_features % 64 == 0 for every quantized linear.")

    static func run(_ args: ParsedArguments) throws {
        guard let output = args.string("output") else { throw UsageError(message: "missing '--output <dir>' (-o)") }
        _ = try args.choice("format", ["vllm"])
        try VLLMExporter.export(modelDirectory: args.positional(0)!, outputDirectory: output, force: args.flag("force"),
                                 log: { Diagnostics.write($0 + "\n") })
        emit("exported \(args.positional(0)!) -> \(output) (vllm / QQQ reference layout)")
    }
}
