import ITRCtlKit

await ITRCtl.entry()
