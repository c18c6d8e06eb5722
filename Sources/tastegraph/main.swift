import Foundation
import TasteGraphCLI

exit(CommandLineTool.run(Array(CommandLine.arguments.dropFirst())))
