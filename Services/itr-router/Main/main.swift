import Foundation
import RouterApp

exit(await RouterService.main())
