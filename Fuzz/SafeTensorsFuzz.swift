// libFuzzer entry point for the safetensors reader, compiled with Sources/NeuralNetworks/Serialization/SafeTensors.swift
// into one module by scripts/fuzz.sh (the Tensors module built beside it). Every input must decode or throw a
// `SafeTensorsError`; a crash, trap, hang or sanitizer report is a finding.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(UnsafeBufferPointer(start: data, count: size))
    do {
        _ = try SafeTensors.decode(bytes, source: "fuzz.safetensors")
        _ = try SafeTensors.decode(bytes, source: "fuzz.safetensors") { $0.hasPrefix("a") }
    } catch is SafeTensorsError {
        // A clear error is the expected outcome for bad input.
    } catch {
        fatalError("safetensors: an error that is not a SafeTensorsError: \(error)")
    }
    return 0
}
