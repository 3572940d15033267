import Foundation
import ITREvents
import TextClassifier

extension ConfigBundle {
    /// The service-type model `classification.yaml` names (`model.file`, relative to the
    /// directory), read and checked: nil when the rules name none. Errors name the model file
    /// and say what is wrong with it (missing, not a model, corrupt, labels that are not exactly
    /// the service types).
    public func serviceTypeModel() throws(ConfigErrors) -> TextModel? {
        guard let reference = classification.model else { return nil }
        let path = directory.isEmpty ? reference.file : (directory as NSString).appendingPathComponent(reference.file)
        func failure(_ message: String) -> ConfigErrors {
            ConfigErrors([ConfigError(
                file: path, line: 0, column: 0, field: "",
                message: "\(message) (the service-type model named by \(ClassificationSection.fileName) model.file)")])
        }
        let model: TextModel
        do {
            model = try ModelFile.read(path: path)
        } catch {
            throw failure(error.message)
        }
        let expected = Set(ServiceType.allCases.map(\.rawValue))
        let labels = Set(model.labels)
        if labels != expected {
            let missing = expected.subtracting(labels).sorted()
            let unknown = labels.subtracting(expected).sorted()
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing \(missing.joined(separator: ", "))") }
            if !unknown.isEmpty { parts.append("unknown \(unknown.joined(separator: ", "))") }
            throw failure("the model's labels are not the service types: \(parts.joined(separator: "; "))")
        }
        return model
    }
}
