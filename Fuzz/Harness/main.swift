// tastegraph-fuzz: the libFuzzer harnesses of every input parser, in one binary (one link instead of six).
//
//     tastegraph-fuzz NAME [libFuzzer flags] [corpus folders]    fuzz one parser (see `Harness.all`)
//     tastegraph-fuzz write-seeds NAME FOLDER                      write generated seeds (model files)
//
// Built only by `make fuzz`, with `-sanitize=fuzzer,address` (see the Package.swift block that declares
// it): libFuzzer's runtime supplies the fuzzing loop, reached through `LLVMFuzzerRunDriver`.
import Foundation

/// libFuzzer's entry point for programs that keep their own `main` (compiler-rt, FuzzerDriver.cpp).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

/// The symbol libFuzzer's own (unused) `main` references; runs the selected harness.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    Harness.runSelected(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

func usage() -> Never {
    let names = Harness.all.map(\.name).joined(separator: ", ")
    FileHandle.standardError.write(Data("usage: tastegraph-fuzz NAME [libFuzzer flags] [corpus…] | write-seeds NAME FOLDER\nharnesses: \(names)\n".utf8))
    exit(2)
}

var arguments = CommandLine.arguments
if arguments.count >= 2 && arguments[1] == "write-seeds" {
    guard arguments.count == 4, let harness = Harness.named(arguments[2]) else { usage() }
    do {
        try harness.writeSeeds(arguments[3])
    } catch {
        FileHandle.standardError.write(Data("write-seeds \(harness.name): \(error)\n".utf8))
        exit(1)
    }
    exit(0)
}
// The harness comes from the first argument, or from TASTEGRAPH_FUZZER when libFuzzer re-executes
// itself (-minimize_crash, -merge) without it.
var selected = ProcessInfo.processInfo.environment["TASTEGRAPH_FUZZER"]
if arguments.count >= 2, Harness.named(arguments[1]) != nil {
    selected = arguments.remove(at: 1)
    setenv("TASTEGRAPH_FUZZER", selected!, 1)
}
guard let name = selected, let harness = Harness.named(name) else { usage() }
Harness.select(harness)

// libFuzzer parses (and keeps) the C argument vector: hand it everything but the harness name.
var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
var argc = Int32(arguments.count)
let status = cArguments.withUnsafeMutableBufferPointer { buffer -> Int32 in
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = buffer.baseAddress
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) }
}
exit(status)
