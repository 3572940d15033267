import Foundation
import LTCApp

exit(await LTCApp.main())
